"""REST hooks: subscribe a URL to a trigger's new items, list and remove subscriptions, read deliveries."""

from connectors.errors import ConnectorError
from reengage import hooks
from reengage.models import Hook, HookDelivery
from reengage.platform import db
from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from reengage.platform.errors import ApiError, field_error
from reengage.schemas.hook import (
    DeliveryQuerySchema,
    HookCreatedSchema,
    HookDeliverySchema,
    HookSchema,
)
from reengage.web.routes.common import listed, owned_or_404, scoped
from reengage.web.subscriptions import HookInputSchema
from triggers.polling import equal

blp = Blueprint("hooks", __name__, url_prefix="/v1",
                description="REST hooks: new items posted as they happen (Zapier and Make instant triggers).")
blp.before_request(authenticate)
DELIVERY_FILTERS = {"status": equal(HookDelivery.status)}


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
        raise field_error("target_url", f"Refused: it {error.message}.") from None
    with db.transaction():
        hook, secret = hooks.subscribe(account_id(), data["event"], data["target_url"], data["filters"],
                                       data.get("label"))
        shown = {name: getattr(hook, name) for name in HookSchema().fields}
    return {**shown, "secret": secret}


@blp.route("/hooks")
@blp.response(200, HookSchema(many=True))
def list_hooks():
    """This account's live subscriptions, newest first."""
    return db.session().scalars(scoped(Hook, Hook.removed_at.is_(None)).order_by(Hook.id.desc())).all()


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
        hooks.remove(owned_or_404(Hook, hook_id), "unsubscribed", db.utcnow())


@blp.route("/hooks/<int:hook_id>/deliveries")
@blp.arguments(DeliveryQuerySchema, location="query")
@blp.response(200, HookDeliverySchema(many=True))
def list_deliveries(filters, hook_id):
    """The hook's deliveries, newest first, with every attempt (a removed hook's too)."""
    hook = owned_or_404(Hook, hook_id)
    return listed(HookDelivery, filters, DELIVERY_FILTERS, HookDelivery.id.desc(),
                  where=(HookDelivery.hook_id == hook.id,))


def _live(hook_id: int) -> Hook:
    hook = owned_or_404(Hook, hook_id)
    if hook.removed_at is not None:
        raise ApiError(404, "not_found", f"Hook {hook_id} was removed ({hook.removed_reason}).")
    return hook
