"""REST hooks: subscribe a URL to a trigger's new items, list and remove subscriptions, read deliveries."""

from sqlalchemy import select

from connectors.errors import ConnectorError
from reengage import hooks
from reengage.models import Hook, HookDelivery
from reengage.platform import db
from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from reengage.platform.errors import ApiError, invalid
from reengage.schemas.hook import (
    DeliveryQuerySchema,
    HookCreatedSchema,
    HookDeliverySchema,
    HookSchema,
)
from reengage.web.subscriptions import HookInputSchema

blp = Blueprint("hooks", __name__, url_prefix="/v1",
                description="REST hooks: new items posted as they happen (Zapier and Make instant triggers).")
blp.before_request(authenticate)


@blp.route("/hooks", methods=["POST"])
@blp.arguments(HookInputSchema)
@blp.response(201, HookCreatedSchema)
def subscribe(data):
    """Subscribe `target_url` to an event; each new matching item is POSTed to it, signed, retried until taken.

    A target answering 410 Gone removes the subscription; 429 delays the next attempt by its Retry-After.
    """
    try:
        hooks.target_check(data["target_url"])
    except ConnectorError as error:
        raise invalid({"target_url": [f"Refused: it {error.message}."]}) from None
    with db.transaction():
        hook, secret = hooks.subscribe(account_id(), data["event"], data["target_url"], data["filters"],
                                       data.get("label"))
        shown = {name: getattr(hook, name) for name in HookSchema().fields}
    return {**shown, "secret": secret}


@blp.route("/hooks")
@blp.response(200, HookSchema(many=True))
def list_hooks():
    """This account's live subscriptions, newest first."""
    query = (select(Hook).where(Hook.account_id == account_id(), Hook.removed_at.is_(None))
             .order_by(Hook.id.desc()))
    return db.session().scalars(query).all()


@blp.route("/hooks/<int:hook_id>")
@blp.response(200, HookSchema)
def get_hook(hook_id):
    """One live subscription."""
    return _live(hook_id)


@blp.route("/hooks/<int:hook_id>", methods=["DELETE"])
@blp.response(204)
def unsubscribe(hook_id):
    """Remove a subscription (again: no change); what was waiting to be posted to it is cancelled."""
    with db.transaction():
        hooks.remove(_find(hook_id), "unsubscribed", db.utcnow())


@blp.route("/hooks/<int:hook_id>/deliveries")
@blp.arguments(DeliveryQuerySchema, location="query")
@blp.response(200, HookDeliverySchema(many=True))
def list_deliveries(filters, hook_id):
    """The hook's deliveries, newest first, with every attempt (a removed hook's too)."""
    hook = _find(hook_id)
    query = select(HookDelivery).where(HookDelivery.hook_id == hook.id)
    if "status" in filters:
        query = query.where(HookDelivery.status == filters["status"])
    return db.session().scalars(query.order_by(HookDelivery.id.desc()).limit(filters["limit"])).all()


def _find(hook_id: int) -> Hook:
    hook = db.session().scalar(select(Hook).where(Hook.id == hook_id, Hook.account_id == account_id()))
    if hook is None:
        raise ApiError(404, "not_found", f"No hook {hook_id} in this account.")
    return hook


def _live(hook_id: int) -> Hook:
    hook = _find(hook_id)
    if hook.removed_at is not None:
        raise ApiError(404, "not_found", f"Hook {hook_id} was removed ({hook.removed_reason}).")
    return hook
