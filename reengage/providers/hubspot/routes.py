"""HubSpot workflows calling us: the "Send a webhook" action and our custom workflow action (v4)."""

from typing import Any

from flask import current_app, g, request

from reengage import connections
from reengage.platform import db, durations
from reengage.platform.auth import authenticate, presented_key
from reengage.platform.blueprint import Blueprint
from reengage.platform.errors import ApiError
from reengage.providers.hubspot import inbound, signatures
from reengage.providers.hubspot.schemas import (
    HUBSPOT_ACTION_EXAMPLE,
    HubSpotActionResultSchema,
    HubSpotWebhookQuerySchema,
    HubSpotWebhookResultSchema,
)

blp = Blueprint("hubspot", __name__, url_prefix="/v1", description="HubSpot workflow webhooks and custom actions.")
OBJECT = {"type": "object", "additionalProperties": True}
# HubSpot signs custom workflow action calls with v2 only.
ACTION_VERSIONS = ("v2",)


@blp.route("/webhooks/hubspot/<token>", methods=["POST"])
@blp.doc(security=[], requestBody={"required": True, "content": {"application/json": {"schema": OBJECT, "example": {
    "vid": 5101, "properties": {"email": {"value": "dana@example.com"}, "firstname": {"value": "Dana"}}}}}})
@blp.arguments(HubSpotWebhookQuerySchema, location="query")
@blp.response(200, HubSpotWebhookResultSchema)
def workflow_webhook(query, token: str):
    """Take a contact from a workflow's "Send a webhook" action: record `type` as its event, enroll it in `flow`.

    Signed with the app's client secret (`X-HubSpot-Signature-v3`; v2 or v1 when the connection's
    `signature_versions` allow them), or sent with your API key in a header. v1 signs only the body, so
    a v1-signed call must give `type` and `flow` in the body. The contact is matched or created by its
    HubSpot id and email.
    """
    link, proof = _link(token)
    if proof == "v1":
        _refuse_unsigned_query(query)
    payload = _payload()
    event_type = query.get("type") or _text(payload.get("type"))
    flow = query.get("flow") or _text(payload.get("flow"))
    if not event_type and not flow:
        raise ApiError(422, "validation_error", "Invalid input: type: Give the event `type` or a `flow` to enroll in.",
                       {"fields": [{"field": "type", "message": "Give the event `type` or a `flow` to enroll in."}]})
    properties = inbound.properties_of(payload)
    contact = inbound.contact_input(payload, properties)
    answer: dict[str, Any] = {"event": None, "enrollment": None}
    if event_type:
        answer["event"] = inbound.record_event(link.account_id, contact, event_type, properties,
                                                       _text(payload.get("eventId")) or None)
        answer["contact_id"] = answer["event"]["contact_id"]
    if flow:
        enrollment = inbound.enroll(link.account_id, contact, flow)[0]
        answer["enrollment"], answer["contact_id"] = enrollment, enrollment.contact_id
    return answer


@blp.route("/hubspot/actions/<token>", methods=["POST"])
@blp.doc(security=[], requestBody={"required": True, "content": {"application/json": {
    "schema": OBJECT, "example": HUBSPOT_ACTION_EXAMPLE}}})
@blp.response(200, HubSpotActionResultSchema)
def custom_action(token: str):
    """Run our custom workflow action: enroll the record in `flow` and/or record `event_type`.

    With `wait_for_outcome` the record waits (BLOCK) until the enrollment ends, for as long as the flow has
    left to run (`hs_expiration_duration`, at most HUBSPOT_BLOCK_MAX); the workflow then goes on with
    `recovered` true or false. Signed with v2 (as HubSpot signs these) or a version the
    connection's `signature_versions` allow, or sent with your API key.
    """
    link, _ = _link(token, ACTION_VERSIONS)
    payload = _payload()
    inputs = payload.get("inputFields") or payload.get("fields") or {}
    if not isinstance(inputs, dict) or not isinstance(payload.get("object"), dict):
        raise ApiError(422, "validation_error", "Invalid input: object: HubSpot's action payload has `object` and "
                                                "`inputFields`.", {"fields": [{"field": "object",
                                                                               "message": "Missing."}]})
    properties = inbound.properties_of(payload["object"])
    contact = inbound.contact_input(payload, properties)
    flow, event_type = _text(inputs.get("flow")), _text(inputs.get("event_type"))
    wait = str(inputs.get("wait_for_outcome", "")).lower() in ("true", "yes", "1")
    callback_id = _text(payload.get("callbackId")) or None
    fields: dict = {}
    if event_type:
        key = f"hubspot-action-{callback_id}" if callback_id else None
        fields["event_status"] = inbound.record_event(link.account_id, contact, event_type, properties,
                                                              key)["status"]
    if not flow:
        return {"outputFields": {**fields, "hs_execution_state": "SUCCESS" if event_type else "FAIL_CONTINUE",
                                 **({} if event_type else {"error": "Choose a flow or an event type."})}}
    try:
        enrollment = inbound.enroll(link.account_id, contact, flow, callback_id if wait else None)[0]
    except ApiError as error:
        # The workflow goes on and shows why; a 4xx would only stop the record with no reason.
        return {"outputFields": {**fields, "hs_execution_state": "FAIL_CONTINUE", "error": error.message}}
    fields.update(inbound.outcome(enrollment))
    if wait and enrollment.status == "active" and enrollment.callback_id == callback_id:
        longest = durations.parse(current_app.config["HUBSPOT_BLOCK_MAX"])
        return {"outputFields": {**fields, "hs_execution_state": "BLOCK",
                                 "hs_expiration_duration": inbound.wait_for(enrollment, db.utcnow(), longest)}}
    return {"outputFields": {**fields, "hs_execution_state": "SUCCESS"}}


def _link(token: str, also: tuple[str, ...] = ()) -> tuple[connections.Linked, str]:
    """The connection the URL names and how the call proved itself: a signature version, or "key"."""
    link = connections.by_token("hubspot", token)
    if link is None:
        raise ApiError(404, "not_found", "No HubSpot connection has this URL.")
    return link, _authenticate(link, also)


def _authenticate(link: connections.Linked, also: tuple[str, ...]) -> str:
    """A valid HubSpot signature of a version the connection accepts (or `also`), or this account's API key."""
    version = signatures.verify(link, also)
    if version:
        return version
    if presented_key():
        authenticate()
        if g.caller.account_id == link.account_id:
            return "key"
    raise ApiError(401, "unauthorized", "Sign the request (the app's client secret) or send this account's API key "
                                        "as 'X-API-Key: <key>'.")


def _refuse_unsigned_query(query: dict[str, Any]) -> None:
    """A v1 signature leaves the URL unsigned: what to do may not come from it, or a capture could be re-aimed."""
    for name in ("type", "flow"):
        if name in query:
            message = "A v1 signature does not cover the URL: give it in the body instead."
            raise ApiError(422, "validation_error", f"Invalid input: {name}: {message}",
                           {"fields": [{"field": name, "message": message}]})


def _payload() -> dict:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError(422, "validation_error", "Invalid input: body: Must be a JSON object.",
                       {"fields": [{"field": "body", "message": "Must be a JSON object."}]})
    return payload


def _text(value) -> str:
    return str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
