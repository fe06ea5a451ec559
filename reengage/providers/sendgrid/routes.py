"""SendGrid's Event Webhook: signed batches of what happened to our emails, for one account's token."""

import binascii

from flask import current_app, request
from sendgrid.helpers.eventwebhook import EventWebhook

from reengage import connections
from reengage.platform import db
from reengage.platform.blueprint import Blueprint
from reengage.platform.errors import ApiError, invalid_json
from reengage.providers.sendgrid import events
from reengage.providers.sendgrid.schemas import SENDGRID_EXAMPLE, SendGridBatchResultSchema

blp = Blueprint("sendgrid", __name__, url_prefix="/v1", description="SendGrid's Event Webhook.")
SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"


@blp.route("/webhooks/sendgrid/<token>", methods=["POST"])
@blp.doc(security=[], requestBody={"required": True, "content": {"application/json": {
    "schema": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
    "example": SENDGRID_EXAMPLE}}})
@blp.response(200, SendGridBatchResultSchema)
def sendgrid_events(token: str):
    """Take a batch of SendGrid events (the URL is the connection's `event_webhook_url`).

    With a verification key set on the connection, the ECDSA signature is required and timestamps
    older than five minutes are refused. Each event is stored once per `sg_event_id`.
    """
    link = connections.by_token("sendgrid", token)
    if link is None:
        raise ApiError(404, "not_found", "No SendGrid connection has this webhook URL.")
    raw = request.get_data(as_text=True)
    _verify(link.settings.get("event_webhook_public_key"), raw)
    try:
        batch = request.get_json(force=True)
    except Exception:
        raise invalid_json() from None
    if not isinstance(batch, list):
        raise ApiError(422, "validation_error", "Invalid input: body: Must be a JSON array of events.",
                       {"fields": [{"field": "body", "message": "Must be a JSON array of events."}]})
    return events.store(link.account_id, batch)


def _verify(public_key: str | None, raw: str) -> None:
    if not public_key:
        return
    signature, timestamp = request.headers.get(SIGNATURE), request.headers.get(TIMESTAMP)
    if not signature or not timestamp:
        raise ApiError(401, "signature_required", f"This webhook is signed: {SIGNATURE} and {TIMESTAMP} are needed.")
    age = db.utcnow().timestamp() - int(timestamp) if timestamp.isdigit() else None
    if age is None or abs(age) > current_app.config["WEBHOOK_MAX_AGE_SECONDS"]:
        raise ApiError(401, "stale_signature", "The signature's timestamp is missing, malformed or too old.")
    try:
        valid = EventWebhook(public_key).verify_signature(raw, signature, timestamp)
    except (ValueError, TypeError, binascii.Error):
        valid = False
    if not valid:
        raise ApiError(401, "invalid_signature", "The signature does not match the body and the verification key.")
