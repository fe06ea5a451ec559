"""The template library and an account's flows: clone, import, change, export, delete."""

from marshmallow import Schema, fields

from reengage.models import Flow
from reengage.platform import db
from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from reengage.platform.errors import ApiError, field_error
from reengage.schemas.flow import (
    TOP_LEVEL,
    FlowInputSchema,
    FlowPatchSchema,
    FlowSchema,
    TemplateSchema,
    TemplateSummarySchema,
)
from reengage.sequencing import flows, templates
from reengage.sequencing.definition import FlowDefinitionSchema
from reengage.web.routes.common import scoped

blp = Blueprint("flows", __name__, url_prefix="/v1", description="Five-phase re-engagement sequences.")
blp.before_request(authenticate)


class DeletedFlowSchema(Schema):
    id = fields.Integer(metadata={"example": 3})
    exited = fields.Integer(metadata={"description": "Active enrollments that exited.", "example": 12})


@blp.route("/templates")
@blp.response(200, TemplateSummarySchema(many=True))
def list_templates():
    """Every shipped template: one per scenario family and per flow-failure category."""
    return [{**template, "steps": sum(len(phase["steps"]) for phase in template["phases"]),
             "channels": sorted({step["channel"] for phase in template["phases"] for step in phase["steps"]})}
            for template in templates.library().values()]


@blp.route("/templates/<key>")
@blp.response(200, TemplateSchema)
def get_template(key):
    """One template in full."""
    if key not in templates.library():
        raise ApiError(404, "not_found", f"No template {key!r}.")
    return templates.library()[key]


@blp.route("/flows")
@blp.response(200, FlowSchema(many=True))
def list_flows():
    """This account's flows."""
    listed = db.session().scalars(scoped(Flow, Flow.deleted_at.is_(None)).order_by(Flow.key)).all()
    routes = flows.routes_of([flow.id for flow in listed])
    return [_shown(flow, routes[flow.id]) for flow in listed]


@blp.route("/flows", methods=["POST"])
@blp.arguments(FlowInputSchema(partial=TOP_LEVEL))
@blp.response(201, FlowSchema)
def create_flow(data):
    """Clone a template (`{"template": "sales"}`, other fields override it) or import an exported flow."""
    if "phases" in data:
        raw = data
    elif data.get("template"):
        raw = flows.from_template(data.pop("template"), data)
    else:
        raise field_error("template", "Give a template to clone, or a whole flow with its phases.")
    checked = flows.check(raw)

    def work():
        return _shown(flows.create(account_id(), checked))

    return db.retry_on_conflict(work)


@blp.route("/flows/<int:flow_id>")
@blp.response(200, FlowSchema)
def get_flow(flow_id):
    """One flow."""
    return _shown(flows.find(account_id(), flow_id))


@blp.route("/flows/<int:flow_id>", methods=["PATCH"])
@blp.arguments(FlowPatchSchema(partial=TOP_LEVEL))
@blp.response(200, FlowSchema)
def patch_flow(changes, flow_id):
    """Change a flow (fields given replace the stored ones; `phases` whole). Checked whole before it is saved."""
    with db.transaction():
        flow = flows.update(flows.find(account_id(), flow_id), changes)
        return _shown(flow)


@blp.route("/flows/<int:flow_id>", methods=["DELETE"])
@blp.response(200, DeletedFlowSchema)
def delete_flow(flow_id):
    """Delete a flow: its active enrollments exit (flow_deleted); messages and results stay."""
    with db.transaction():
        flow = flows.find(account_id(), flow_id)
        return {"id": flow.id, "exited": flows.remove(flow, db.utcnow())}


@blp.route("/flows/<int:flow_id>/export")
@blp.response(200, FlowDefinitionSchema)
def export_flow(flow_id):
    """The flow as JSON that POST /v1/flows imports, here or in another account."""
    return flows.definition(flows.find(account_id(), flow_id))


def _shown(flow: Flow, routes: list[str] | None = None) -> dict:
    shown = flows.definition(flow, routes)
    return {**shown, "id": flow.id, "created_at": flow.created_at, "updated_at": flow.updated_at}
