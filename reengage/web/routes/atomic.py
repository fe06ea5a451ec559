"""Atomic Transact intake: SDK callbacks and Atomic webhooks become events for flow-failure rules."""

import hashlib
import json

from flask import request
from marshmallow import ValidationError

from reengage import samples
from reengage.intake import ingest
from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from reengage.platform.errors import field_error, invalid
from reengage.schemas.atomic import AtomicCloudEventSchema, AtomicForwardSchema
from reengage.schemas.event import IntakeResultSchema

blp = Blueprint("atomic", __name__, url_prefix="/v1", description="Atomic Transact events.")
blp.before_request(authenticate)

_forward = AtomicForwardSchema()
_cloud_event = AtomicCloudEventSchema()
FORWARD_EXAMPLE = {"callback": "onInteraction", "identifier": samples.CONTACT["external_id"],
                   "payload": {"name": "Viewed MFA Page", "company": {"_id": "c-1", "name": "Acme Payroll"}}}


def register_schemas(spec) -> None:
    """Name the two payload shapes in the spec."""
    for name, schema in (("AtomicForward", AtomicForwardSchema), ("AtomicCloudEvent", AtomicCloudEventSchema)):
        if name not in spec.components.schemas:
            spec.components.schema(name, schema=schema)


@blp.route("/webhooks/atomic", methods=["POST"])
@blp.doc(requestBody={"required": True, "content": {"application/json": {
    "schema": {"oneOf": [{"$ref": "#/components/schemas/AtomicForward"},
                         {"$ref": "#/components/schemas/AtomicCloudEvent"}]},
    "examples": {"sdk": {"summary": "An SDK callback forwarded by your app", "value": FORWARD_EXAMPLE}}}}})
@blp.response(200, IntakeResultSchema)
def atomic_webhook():
    """Record a Transact SDK callback or an Atomic webhook (CloudEvents, deduplicated on `ce-id`)."""
    payload = request.get_json()
    try:
        event = _from_cloud_event(payload) if request.headers.get("ce-type") else _from_forward(payload)
    except ValidationError as error:
        raise invalid(error.messages) from None
    with ingest.arrival() as token:
        events, _ = ingest.parse(event)
        return ingest.ingest(account_id(), events, "", token)[0]


def _from_forward(payload) -> dict:
    data = _forward.load(payload)
    body = data["payload"]
    if data["callback"] == "onInteraction":
        if not isinstance(body.get("name"), str) or not body["name"]:
            raise field_error("payload.name", "An interaction needs its name.")
        event_type = body["name"]
    else:
        event_type = data["callback"]
    key = data.get("id") or "atomic-" + hashlib.sha256(
        json.dumps([data["callback"], data["identifier"], body, str(data.get("occurred_at"))], sort_keys=True,
                   default=str).encode()
    ).hexdigest()[:40]
    event = {"id": key, "type": event_type, "contact": {"external_id": data["identifier"]}, "properties": body,
             "source": "atomic-sdk"}
    if "occurred_at" in data:
        event["occurred_at"] = data["occurred_at"].isoformat()
    return event


def _from_cloud_event(payload) -> dict:
    data = _cloud_event.load(payload)
    ce_id = request.headers.get("ce-id")
    if not ce_id:
        raise field_error("ce-id", "A CloudEvent needs its ce-id header.")
    envelope = {key: value for key, value in data.items() if key not in _cloud_event.fields}
    properties = {**data["data"], "envelope": envelope} if envelope else data["data"]
    event = {"id": f"atomic-ce-{ce_id}"[:255], "type": data["eventType"],
             "contact": {"external_id": data["user"]["identifier"]}, "properties": properties,
             "source": "atomic-webhook"}
    moment = data.get("eventTime") or _cloud_event.fields["eventTime"].deserialize(request.headers.get("ce-time"))
    if moment is not None:
        event["occurred_at"] = moment.isoformat()
    return event
