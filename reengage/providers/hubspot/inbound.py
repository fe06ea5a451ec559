"""HubSpot calling us: a workflow's webhook or custom action names a contact, and an event or a flow.

HubSpot's payload layouts differ by feature: object properties come flat (`{"email": "a@b.co"}`) or
with versions (`{"email": {"value": "a@b.co"}}`), and the record id as `objectId`, `vid`, `id` or
`hs_object_id`. Everything here accepts each of them.
"""

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import func, select

from reengage.intake import ingest
from reengage.intake.contacts import ContactResolver
from reengage.intake.schemas import ContactInputSchema
from reengage.links.crm import recovered
from reengage.models import Enrollment, Message
from reengage.platform import db, durations
from reengage.platform.errors import invalid
from reengage.platform.fields import e164
from reengage.sequencing import enrollments, flows

# HubSpot's contact property names and ours.
FIELDS = {"email": "email", "firstname": "first_name", "lastname": "last_name"}
# Properties kept on the event: enough to filter on, never a whole CRM record.
MAX_PROPERTIES, MAX_VALUE = 100, 500
_contact_input = ContactInputSchema()
# How long past its last step a waiting record is held: that step's send and delivery, and the sweep that ends it.
WAIT_MARGIN = timedelta(days=1)


def properties_of(payload: dict[str, Any]) -> dict[str, Any]:
    """The object's properties as plain values, whichever layout HubSpot used."""
    raw = payload.get("properties")
    if not isinstance(raw, dict):
        raw = {name: value for name, value in payload.items() if name in FIELDS or name == "phone"}
    flat = {}
    for name, value in raw.items():
        if isinstance(value, dict):
            value = value.get("value")
        if value not in (None, "") and isinstance(value, str | int | float | bool):
            flat[str(name)] = value
    return flat


def record_id(payload: dict[str, Any], properties: dict[str, Any]) -> str | None:
    """The HubSpot id of the enrolled record."""
    obj = payload.get("object")
    if not isinstance(obj, dict):
        obj = {}
    for value in (obj.get("objectId"), payload.get("objectId"), payload.get("vid"), payload.get("id"),
                  properties.get("hs_object_id")):
        if isinstance(value, int | str) and str(value).isdigit():
            return str(value)
    return None


def contact_input(payload: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    """A validated contact input (HubSpot id, email, names, phone when it is a full number); 422 if unusable."""
    data: dict[str, Any] = {ours: str(properties[theirs]) for theirs, ours in FIELDS.items() if theirs in properties}
    hubspot_id = record_id(payload, properties)
    if hubspot_id:
        data["hubspot_id"] = hubspot_id
    phone = e164(str(properties.get("phone", ""))) if properties.get("phone") else None
    if phone:  # CRM phone numbers are often local; one we cannot read is left out rather than refuse the contact
        data["phone"] = phone
    try:
        return _contact_input.load(data)
    except ValidationError as error:
        raise invalid(error.messages, "properties") from None


def bounded(properties: dict[str, Any]) -> dict[str, Any]:
    """The properties an event keeps: the first MAX_PROPERTIES, strings cut at MAX_VALUE."""
    return {name: (value[:MAX_VALUE] if isinstance(value, str) else value)
            for name, value in list(properties.items())[:MAX_PROPERTIES]}


def record_event(account_id: int, contact: dict[str, Any], event_type: str, properties: dict[str, Any],
                 key: str | None) -> dict[str, Any]:
    """Store the event (once per `key`, or per identical payload) and hand it to the event job."""
    kept = bounded(properties)
    key = key or "hubspot-" + hashlib.sha256(json.dumps([event_type, contact, kept], sort_keys=True).encode()
                                             ).hexdigest()[:40]
    body = {"id": key[:255], "type": event_type, "contact": contact, "properties": kept, "source": "hubspot"}
    with ingest.arrival() as token:
        events, _ = ingest.parse(body)
        return ingest.ingest(account_id, events, "", token)[0]


def enroll(account_id: int, contact_data: dict[str, Any], flow_ref: str, callback_id: str | None = None,
           ) -> tuple[Enrollment, bool]:
    """Upsert the contact and enroll them in the flow; a callback id makes the workflow wait for the outcome."""

    def work() -> tuple[Enrollment, bool]:
        db_session = db.session()
        flow = flows.find(account_id, flow_ref)
        resolver = ContactResolver(db_session)
        resolver.preload([(account_id, contact_data)])
        contact = resolver.upsert(account_id, contact_data, "properties")
        db_session.flush()
        enrollment, created = enrollments.enroll(flow, contact, enrollments.dropoff_of(contact, None), db.utcnow(),
                                                 "hubspot", enrollments.account_settings(account_id))
        if callback_id and enrollment.callback_id is None:
            enrollment.callback_id = callback_id
        db_session.flush()
        return enrollment, created

    return db.retry_on_conflict(work)


def wait_for(enrollment: Enrollment, now: datetime, longest: timedelta) -> str:
    """`hs_expiration_duration` for a record waiting on `enrollment`: what is left of its flow, at most `longest`."""
    last = db.session().scalar(select(func.max(Message.due_at)).where(Message.enrollment_id == enrollment.id))
    left = max((last or now) - now, timedelta(0)) + WAIT_MARGIN
    return durations.iso(min(left, longest))


def outcome(enrollment: Enrollment) -> dict[str, Any]:
    """The output fields a workflow gets about an enrollment."""
    return {"enrollment_id": str(enrollment.id), "enrollment_status": enrollment.status,
            "exit_reason": enrollment.exit_reason or "", "recovered": recovered(enrollment)}
