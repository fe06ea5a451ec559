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
from triggers import TRIGGERS
from triggers.polling import equal

blp = Blueprint("hooks", __name__, url_prefix="/v1",
                description="REST hooks: new items posted as they happen (Zapier and Make instant triggers).")
blp.before_request(authenticate)
DELIVERY_FILTERS = {"status": equal(HookDelivery.status)}


def _header(description: str, example: str) -> dict:
    return {"required": True, "description": description, "schema": {"type": "string", "example": example}}


# What each delivery to the subscribed `target_url` carries, and what its answer does.
DELIVERY = {"{$request.body#/target_url}": {"post": {
    "summary": "A new item of the subscribed trigger, exactly as its poll shows it.",
    "description": "Signed per Standard Webhooks: verify `webhook-signature` with a Standard Webhooks library and "
                   "the hook's `secret`. Every attempt at one delivery has the same `webhook-id`.",
    "parameters": [{"in": "header", "name": name, **_header(description, example),
                    **({"deprecated": True} if name == "Reengage-Signature" else {})}
                   for name, description, example in (
        ("webhook-id", "The delivery's id, the same on every attempt: dedupe on it.", "msg_91"),
        ("webhook-timestamp", "Unix seconds when this attempt was signed.", "1764892800"),
        ("webhook-signature", "`v1,` and the base64 HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>`, "
                              "keyed by the base64-decoded part of the secret after `whsec_`.",
         "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="),
        ("Reengage-Signature", "Deprecated, sent for this release only: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "
                               "\"<t>.<body>\" keyed by the whole secret>`.", "t=1764892800,v1=5f0c..."),
        ("Reengage-Event", "The subscribed trigger.", "dropoff.detected"),
        ("Reengage-Hook", "The subscription's id.", "5"),
        ("Reengage-Delivery", "The delivery's id, as listed at /v1/hooks/{hook_id}/deliveries.", "91"))],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "oneOf": [trigger.item for trigger in TRIGGERS.values()]}}}},
    "responses": {
        "2XX": {"description": "Taken: the delivery is done."},
        "410": {"description": "Gone: the subscription is removed and nothing more is posted to it."},
        "429": {"description": "Busy: the delivery is tried again after `Retry-After` seconds.",
                "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 0}}}},
        "default": {"description": "Another answer: a 5xx or no answer is tried again later (8 attempts in all); "
                                   "any other answer fails the delivery."},
    }}}}


@blp.route("/hooks", methods=["POST"])
@blp.arguments(HookInputSchema)
@blp.response(201, HookCreatedSchema)
@blp.doc(callbacks={"delivery": DELIVERY})
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
