"""REST actions: `POST /v1/actions/<key>`, one documented route per action, and their list."""

from marshmallow import Schema, fields

from actions import ACTIONS
from actions.action import Action
from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint

blp = Blueprint("actions", __name__, url_prefix="/v1", description="What Reengage does, for Zapier, Make and HubSpot.")
blp.before_request(authenticate)


class ActionSchema(Schema):
    key = fields.String(metadata={"example": "record-conversion"})
    noun = fields.String(metadata={"example": "Conversion"})
    label = fields.String(metadata={"example": "Record Conversion"})
    description = fields.String()
    sample = fields.Dict()


@blp.route("/actions")
@blp.response(200, ActionSchema(many=True))
def list_actions():
    """Every action with its declaration (for app generation)."""
    return [{"key": a.key, "noun": a.noun, "label": a.label, "description": a.description, "sample": a.sample}
            for a in ACTIONS.values()]


def _route(action: Action) -> None:
    def perform(data):
        return action.perform(account_id(), data)

    perform.__doc__ = f"{action.label}: {action.description}"
    endpoint = f"action_{action.key.replace('-', '_')}"
    view = blp.response(200, action.output, example=action.sample)(perform)
    view = blp.arguments(action.input)(view)
    blp.route(f"/actions/{action.key}", methods=["POST"], endpoint=endpoint)(view)


for _action in ACTIONS.values():
    _route(_action)
