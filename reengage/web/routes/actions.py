"""REST actions: `POST /v1/actions/<key>`, one documented route per action, and their list."""

from marshmallow import Schema, fields

from actions import ACTIONS
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
    return [{"key": a.KEY, "noun": a.NOUN, "label": a.LABEL, "description": a.DESCRIPTION, "sample": a.SAMPLE}
            for a in ACTIONS.values()]


def _route(action) -> None:
    def perform(data):
        return action.perform(account_id(), data)

    perform.__doc__ = f"{action.LABEL}: {action.DESCRIPTION}"
    endpoint = f"action_{action.KEY.replace('-', '_')}"
    view = blp.response(200, action.Output, example=action.SAMPLE)(perform)
    view = blp.arguments(action.Input)(view)
    blp.route(f"/actions/{action.KEY}", methods=["POST"], endpoint=endpoint)(view)


for _action in ACTIONS.values():
    _route(_action)
