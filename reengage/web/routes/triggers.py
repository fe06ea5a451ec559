"""Polling triggers: `GET /v1/triggers/<key>`, one documented route per trigger, and their list."""

from marshmallow import Schema, fields

from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from triggers import TRIGGERS, polling
from triggers.polling import Trigger

blp = Blueprint("triggers", __name__, url_prefix="/v1",
                description="What Reengage detects, for Zapier and Make to poll (newest first, stable ids).")
blp.before_request(authenticate)


class FilterSchema(Schema):
    key = fields.String(metadata={"example": "intent"})
    label = fields.String(metadata={"example": "Intent"})
    type = fields.String(metadata={"example": "string"})
    required = fields.Boolean(metadata={"example": False})
    help = fields.String(metadata={"example": "Only dropoffs of this intent."})
    choices = fields.List(fields.String(), metadata={"example": ["low", "medium", "high"]})
    dynamic = fields.String(metadata={"description": "The dropdown source (GET /v1/options/<source>) of its choices.",
                                      "example": "scenarios"})


class TriggerSchema(Schema):
    key = fields.String(metadata={"example": "dropoff.detected"})
    noun = fields.String(metadata={"example": "Dropoff"})
    label = fields.String(metadata={"example": "New Dropoff"})
    description = fields.String()
    filters = fields.List(fields.Nested(FilterSchema))
    cursor = fields.String(metadata={"description": "The item field items are listed by, newest first.",
                                     "example": "detected_at"})
    sample = fields.Dict()


@blp.route("/triggers")
@blp.response(200, TriggerSchema(many=True))
def list_triggers():
    """Every trigger with its declaration (for app generation); each can be polled or subscribed to."""
    return [polling.declaration(trigger) for trigger in TRIGGERS.values()]


def _route(trigger: Trigger) -> None:
    def poll(args):
        return polling.poll(trigger, account_id(), args)

    poll.__doc__ = f"{trigger.label}: {trigger.description}"
    view = blp.alt_response(200, schema=trigger.item(many=True), example=[trigger.sample], success=True,
                            description="Newest first; at most `limit` items, each as it was when published (its "
                                        "event), as its REST hook delivery carried it.")(poll)
    # An instance, so that webargs does not build the schema again on every poll.
    view = blp.arguments(polling.query_schema(trigger)(), location="query")(view)
    blp.route(f"/triggers/{trigger.key}", endpoint=f"trigger_{trigger.key.replace('.', '_')}")(view)


for _trigger in TRIGGERS.values():
    _route(_trigger)
