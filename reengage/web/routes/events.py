"""Event intake (one or a batch, idempotent by the sender's id) and the event list."""

from flask import request

from reengage import samples
from reengage.intake import ingest
from reengage.intake.schemas import EventBatchSchema, EventInputSchema
from reengage.models import Event
from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from reengage.schemas.event import (
    EventQuerySchema,
    EventSchema,
    IntakeBatchResultSchema,
    IntakeResultSchema,
)
from reengage.web.routes.common import listed
from triggers.polling import equal

blp = Blueprint("events", __name__, url_prefix="/v1", description="What contacts did.")
blp.before_request(authenticate)
FILTERS = {"contact_id": equal(Event.contact_id), "type": equal(Event.type)}

SINGLE_EXAMPLE = {
    "id": "chk_10293",
    "type": "application_started",
    "occurred_at": "2026-11-20T15:04:05Z",
    "contact": {name: samples.CONTACT[name] for name in ("external_id", "email", "first_name")},
    "properties": {"application_id": "app-77"},
    "value": 249.0,
    "currency": "USD",
    "source": "checkout-app",
}
def _one_of(*names: str) -> dict:
    return {"oneOf": [{"$ref": f"#/components/schemas/{name}"} for name in names]}


INTAKE_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": _one_of("EventInput", "EventBatch"),
            "examples": {
                "single": {"summary": "One event", "value": SINGLE_EXAMPLE},
                "batch": {"summary": "A batch (up to 1,000)", "value": {"events": [SINGLE_EXAMPLE]}},
            },
        }
    },
}
INTAKE_ANSWER = {
    "description": "One result for a single event; `{\"events\": [...]}` for a batch, in the order sent.",
    "content": {
        "application/json": {
            "schema": _one_of("IntakeResult", "IntakeBatchResult")
        }
    },
}

RATE_LIMITED = {
    "description": "The account's events budget (`EVENT_RATE_LIMIT`, a batch of N counting N) or requests budget "
                   "(`RATE_LIMIT`) is spent, or it already has `EVENT_BATCH_CONCURRENCY` batches of more than 50 "
                   "events in progress on this server process; nothing was stored. Retry after `Retry-After` seconds.",
    "headers": {"Retry-After": {"description": "Seconds until the budget is renewed.", "schema": {"type": "integer"}}},
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}

PART_STORED = {
    "description": f"Writing failed (concurrent writers kept clashing, or the database failed). A batch of more than "
                   f"{ingest.CHUNK_EVENTS} events is written in parts of {ingest.CHUNK_EVENTS}, and on SQLite, while "
                   f"other requests come in, one of more than {ingest.WHOLE_EVENTS} in parts of "
                   f"{ingest.SHORT_CHUNK_EVENTS}: when a later part "
                   "failed, `details.stored` says how many of its first events are stored. Post the same request "
                   "again: events are stored once per `id`, so those stored are answered `replayed`, the rest stored.",
    "headers": {"Retry-After": {"description": "Seconds to wait before posting again.", "schema": {"type": "integer"}}},
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def register_schemas(spec) -> None:
    """Name the intake schemas in the spec, for the hand-written oneOf above."""
    for name, schema in (("EventInput", EventInputSchema), ("EventBatch", EventBatchSchema),
                         ("IntakeResult", IntakeResultSchema), ("IntakeBatchResult", IntakeBatchResultSchema)):
        if name not in spec.components.schemas:
            spec.components.schema(name, schema=schema)


@blp.route("/events", methods=["POST"])
@blp.doc(requestBody=INTAKE_BODY, responses={"200": INTAKE_ANSWER, "429": RATE_LIMITED, "503": PART_STORED})
def post_events():
    """Record one event or a batch. A replayed `id` is stored once and answered as `replayed`."""
    with ingest.arrival() as token:
        events, is_batch = ingest.parse(request.get_json())
        results = ingest.ingest(account_id(), events, "events" if is_batch else "", token)
    return {"events": results} if is_batch else results[0]


@blp.route("/events")
@blp.arguments(EventQuerySchema, location="query")
@blp.response(200, EventSchema(many=True))
def list_events(filters):
    """This account's events, newest first, optionally for one contact or of one type."""
    return listed(Event, filters, FILTERS, Event.occurred_at.desc(), Event.id.desc())
