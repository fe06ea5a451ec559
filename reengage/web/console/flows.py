"""Flows in the console: list, clone a template, import, export, edit and delete a flow (its steps: console.steps).

Every change is the API's PATCH: the same schema (FlowPatchSchema) and service (flows.update) check it whole,
so a step's offset is held to its phase's days exactly as the API holds it.
"""

import json
from typing import Any

from flask import Response, redirect, request, url_for
from sqlalchemy import select

from reengage.models import Flow, Rule
from reengage.platform import db
from reengage.platform.errors import field_error
from reengage.schemas.flow import TOP_LEVEL, FlowInputSchema, FlowPatchSchema
from reengage.sequencing import flows, phases, templates
from reengage.web.console.base import account, attempt, blp, page
from reengage.web.console.offsets import shown_offset


def find_flow(flow_id: int) -> Flow:
    """The signed-in account's live flow, else the 404."""
    return flows.find(account().id, flow_id)


@blp.route("/flows", endpoint="flows")
def flows_page(problems: dict | None = None, status: int = 200):
    """The account's flows, the templates to clone and the import form."""
    listed = db.session().scalars(select(Flow).where(Flow.account_id == account().id, Flow.deleted_at.is_(None))
                                  .order_by(Flow.key)).all()
    return page("flows.html", flows=listed, routes=flows.routes_of([f.id for f in listed]),
                templates=templates.library().values(), problems=problems or {}, form=request.form), status



@blp.route("/flows", methods=["POST"])
def clone():
    """Clone a template (the API's POST /v1/flows with `template`)."""
    given = {name: request.form[name] for name in ("template", "name", "key") if request.form.get(name)}

    def work() -> Flow:
        data = FlowInputSchema(partial=TOP_LEVEL).load(given)
        if not data.get("template"):
            raise field_error("template", "Choose a template to clone.")
        with db.transaction():
            return flows.create(account().id, flows.check(flows.from_template(data.pop("template"), data)))

    flow, problems = attempt(work)
    return flows_page(problems, 422) if problems else redirect(url_for("console.flow", flow_id=flow.id))


@blp.route("/flows/import", methods=["POST"])
def import_flow():
    """Import an exported flow (from this account or another): the API's POST /v1/flows with phases."""
    def work() -> Flow:
        try:
            raw = json.loads(request.form.get("definition") or "")
        except ValueError:
            raise field_error("definition", "Paste the JSON a flow's export gave.") from None
        if not isinstance(raw, dict) or "phases" not in raw:
            raise field_error("definition", "An export is a JSON object with phases.")
        with db.transaction():
            return flows.create(account().id, flows.check(FlowInputSchema(partial=TOP_LEVEL).load(raw)))

    flow, problems = attempt(work)
    return flows_page(problems, 422) if problems else redirect(url_for("console.flow", flow_id=flow.id))


@blp.route("/flows/<int:flow_id>")
def flow(flow_id: int, problems: dict | None = None, status: int = 200):
    """One flow: its settings form and its five phases of steps."""
    found = find_flow(flow_id)
    rules = db.session().scalars(select(Rule).where(Rule.account_id == account().id).order_by(Rule.key)).all()
    definition = flows.definition(found)
    listed = {f"rule:{rule.key}" for rule in rules}
    others = [selector for selector in definition["enroll_on"] if selector not in listed]
    return page("flow.html", flow=found, definition=definition, rules=rules, others=others, phases=phases.PHASES,
                window=phases.window, shown_offset=shown_offset, problems=problems or {}), status


@blp.route("/flows/<int:flow_id>", methods=["POST"])
def save_flow(flow_id: int):
    """Change the flow's name, goals, holdout, enrolling rules and whether it is on."""
    form = request.form
    changes: dict[str, Any] = {
        "name": form.get("name", ""), "enabled": form.get("enabled") == "on",
        "goal_events": [line.strip() for line in form.get("goal_events", "").splitlines() if line.strip()],
        "enroll_on": form.getlist("enroll_on") + [line.strip() for line in form.get("enroll_other", "").splitlines()
                                                  if line.strip()],
        "holdout_percent": form.get("holdout_percent", ""),
    }
    if "toggle" in form:
        changes = {"enabled": form["toggle"] == "on"}
    _, problems = attempt(lambda: patch(flow_id, changes))
    if problems:
        return flow(flow_id, problems, 422)
    return redirect(request.form.get("back") or url_for("console.flow", flow_id=flow_id, saved=1))


def patch(flow_id: int, changes: dict[str, Any]) -> Flow:
    """The API's PATCH of a flow: FlowPatchSchema, then flows.update checking the result whole."""
    data = FlowPatchSchema(partial=TOP_LEVEL).load(changes)
    with db.transaction():
        return flows.update(find_flow(flow_id), data)


@blp.route("/flows/<int:flow_id>/delete", methods=["POST"])
def delete(flow_id: int):
    """Delete the flow (the API's DELETE /v1/flows/{id}): its active enrollments exit; its history stays."""
    if request.form.get("confirm") != "on":
        return flow(flow_id, {"confirm": "Tick the box to confirm the deletion."}, 422)
    with db.transaction():
        found = find_flow(flow_id)
        name, exited = found.name, flows.remove(found, db.utcnow())
    return redirect(url_for("console.flows", deleted=name, exited=exited))


@blp.route("/flows/<int:flow_id>/export")
def export(flow_id: int):
    """The flow as importable JSON, downloaded (the API's GET /v1/flows/{id}/export)."""
    found = find_flow(flow_id)
    body = json.dumps(FlowPatchSchema().dump(flows.definition(found)), indent=2)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{found.key}.json"'})
