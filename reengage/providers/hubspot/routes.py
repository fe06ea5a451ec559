"""HubSpot workflows calling us: the "Send a webhook" action and our custom workflow action (v4)."""

from typing import Any

from flask import g, request
from hubspot.exceptions import InvalidSignatureTimestampError, InvalidSignatureVersionError
from hubspot.utils.signature import Signature

from reengage import connections
from reengage.platform.auth import authenticate, presented_key
from reengage.platform.blueprint import Blueprint
from reengage.platform.errors import ApiError
from reengage.providers.hubspot import inbound
from reengage.providers.hubspot.schemas import (
    HUBSPOT_ACTION_EXAMPLE,
    HubSpotActionResultSchema,
    HubSpotWebhookQuerySchema,
    HubSpotWebhookResultSchema,
)

blp = Blueprint("hubspot", __name__, url_prefix="/v1", description="HubSpot workflow webhooks and custom actions.")
OBJECT = {"type": "object", "additionalProperties": True}


@blp.route("/webhooks/hubspot/<token>", methods=["POST"])
@blp.doc(security=[], requestBody={"required": True, "content": {"application/json": {"schema": OBJECT, "example": {
    "vid": 5101, "properties": {"email": {"value": "dana@example.com"}, "firstname": {"value": "Dana"}}}}}})
@blp.arguments(HubSpotWebhookQuerySchema, location="query")
@blp.response(200, HubSpotWebhookResultSchema)
def workflow_webhook(query, token: str):
    """Take a contact from a workflow's "Send a webhook" action: record `type` as its event, enroll it in `flow`.

    Signed with the app's client secret (`X-HubSpot-Signature-v3`, or v1/v2), or sent with your API key
    in a header. The contact is matched or created by its HubSpot id and email.
    """
    link = _link(token)
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

    With `wait_for_outcome` the record waits (BLOCK) until the enrollment ends; the workflow then goes
    on with `recovered` true or false.
    """
    link = _link(token)
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
    blocked = wait and enrollment.status == "active" and enrollment.callback_id == callback_id
    return {"outputFields": {**fields, "hs_execution_state": "BLOCK" if blocked else "SUCCESS"}}


def _link(token: str) -> connections.Linked:
    link = connections.by_token("hubspot", token)
    if link is None:
        raise ApiError(404, "not_found", "No HubSpot connection has this URL.")
    _authenticate(link)
    return link


def _authenticate(link: connections.Linked) -> None:
    """A valid HubSpot signature over the full URL, or this account's API key."""
    v3, older = request.headers.get("X-HubSpot-Signature-v3"), request.headers.get("X-HubSpot-Signature")
    if v3 or older:
        secret = link.secrets.get("client_secret")
        if not secret:
            raise ApiError(401, "unauthorized", "Signed requests need the app's client_secret on the connection.")
        version = "v3" if v3 else (request.headers.get("X-HubSpot-Signature-Version") or "v1").lower()
        try:
            valid = Signature.is_valid(signature=v3 or older, client_secret=secret,
                                       request_body=request.get_data(as_text=True), http_uri=_url(),
                                       http_method=request.method, signature_version=version,
                                       timestamp=request.headers.get("X-HubSpot-Request-Timestamp"))
        except InvalidSignatureTimestampError:
            raise ApiError(401, "stale_signature", "X-HubSpot-Request-Timestamp is missing or older than "
                                                   "5 minutes.") from None
        except InvalidSignatureVersionError:
            raise ApiError(401, "invalid_signature", f"Unknown signature version {version!r}.") from None
        if not valid:
            raise ApiError(401, "invalid_signature", "The signature does not match this request and client secret.")
        return
    if presented_key():
        authenticate()
        if g.caller.account_id == link.account_id:
            return
    raise ApiError(401, "unauthorized", "Sign the request (the app's client secret) or send this account's API key "
                                        "as 'X-API-Key: <key>'.")


def _url() -> str:
    """The URL HubSpot called, as it saw it (behind a proxy, from the X-Forwarded-* headers)."""
    proto = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
    host = request.headers.get("X-Forwarded-Host", request.host).split(",")[0].strip()
    query = request.query_string.decode()
    return f"{proto}://{host}{request.path}" + (f"?{query}" if query else "")


def _payload() -> dict:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError(422, "validation_error", "Invalid input: body: Must be a JSON object.",
                       {"fields": [{"field": "body", "message": "Must be a JSON object."}]})
    return payload


def _text(value) -> str:
    return str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
