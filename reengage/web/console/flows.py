"""Flows in the console: list, clone a template, import, export, edit the flow and each step with a live preview.

Every change is the API's PATCH: the same schema (FlowPatchSchema) and service (flows.update) check it whole,
so a step's offset is held to its phase's days exactly as the API holds it.
"""

import copy
import json
from typing import Any

from flask import Response, abort, redirect, request, url_for
from marshmallow import RAISE, Schema, ValidationError, fields, validate
from sqlalchemy import select

from actions import render
from reengage.models import Flow, Rule
from reengage.platform import db, durations
from reengage.platform.errors import field_error
from reengage.schemas.flow import TOP_LEVEL, FlowInputSchema, FlowPatchSchema
from reengage.sequencing import flows, phases, templates
from reengage.sequencing.definition import StepSchema, template_problems
from reengage.settings import CLOCK
from reengage.web.console.base import account, attempt, blp, page

EDITED = ("channel", "subject", "body")


class TimingSchema(Schema):
    """A step's offset as the console shows it: day N after enrollment, at a time of that day."""

    class Meta:
        unknown = RAISE

    day = fields.Integer(required=True, validate=validate.Range(0, 3650))
    time = fields.String(required=True, validate=CLOCK)


def shown_offset(offset: str) -> dict[str, Any]:
    """`P3DT9H` as {"day": 3, "time": "09:00"}."""
    moment = durations.offset(offset)
    minutes = moment.seconds // 60
    return {"day": moment.days, "time": f"{minutes // 60:02d}:{minutes % 60:02d}"}


def _flow(flow_id: int) -> Flow:
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
    found = _flow(flow_id)
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
    _, problems = attempt(lambda: _patch(flow_id, changes))
    if problems:
        return flow(flow_id, problems, 422)
    return redirect(request.form.get("back") or url_for("console.flow", flow_id=flow_id, saved=1))


def _patch(flow_id: int, changes: dict[str, Any]) -> Flow:
    data = FlowPatchSchema(partial=TOP_LEVEL).load(changes)
    with db.transaction():
        return flows.update(_flow(flow_id), data)


@blp.route("/flows/<int:flow_id>/export")
def export(flow_id: int):
    """The flow as importable JSON, downloaded (the API's GET /v1/flows/{id}/export)."""
    found = _flow(flow_id)
    body = json.dumps(FlowPatchSchema().dump(flows.definition(found)), indent=2)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{found.key}.json"'})


@blp.route("/flows/<int:flow_id>/steps/<int:number>/<key>", methods=["GET", "POST"])
def step(flow_id: int, number: int, key: str):
    """Edit one step; `preview` renders the edits without saving, `save` stores them through the API's checks."""
    found = _flow(flow_id)
    definition = flows.definition(found)
    if not 1 <= number <= len(definition["phases"]):
        abort(404)
    steps = definition["phases"][number - 1]["steps"]
    index = next((i for i, s in enumerate(steps) if s["key"] == key), None)
    if index is None:
        abort(404)
    stored = steps[index]
    cta = stored.get("cta") or {}
    form = {**shown_offset(stored["offset"]), **{name: stored.get(name, "") for name in EDITED},
            "cta_label": cta.get("label", ""), "cta_url": cta.get("url", ""), "contact_email": ""}
    problems: dict[str, str] = {}
    if request.method == "POST":
        form.update({name: request.form.get(name, "") for name in form})
        edited, problems = attempt(lambda: _edited(stored, form))
        if not problems and request.form.get("action") == "save":
            phased = copy.deepcopy(definition["phases"])
            phased[number - 1]["steps"][index] = edited
            _, problems = attempt(lambda: _patch(flow_id, {"phases": phased}), f"phases[{number - 1}].steps[{index}]")
            if not problems:
                return redirect(url_for("console.flow", flow_id=flow_id, saved=1) + f"#step-{number}-{key}")
        stored = edited or stored
    preview, preview_problems = attempt(lambda: _preview(found, number, stored, form))
    problems = {**preview_problems, **problems}
    if request.headers.get("X-Preview"):
        return page("preview.html", preview=preview, problems=problems)
    return page("step.html", flow=found, number=number, step=stored, form=form, preview=preview, problems=problems,
                window=phases.window(phases.PHASES[number - 1])), 422 if problems else 200


def _edited(stored: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
    """The stored step with the form's edits, checked by the flow's own step schema."""
    timing = TimingSchema().load({"day": form["day"], "time": form["time"]})
    hours, minutes = timing["time"].split(":")
    step = {**{k: v for k, v in stored.items() if k not in (*EDITED, "cta")},
            "offset": f"P{timing['day']}DT{int(hours)}H{int(minutes)}M", "channel": form["channel"]}
    step.update({name: form[name] for name in ("subject", "body") if form[name]})
    if form["cta_label"] or form["cta_url"]:
        step["cta"] = {"label": form["cta_label"], "url": form["cta_url"]}
    checked = StepSchema().load(step)
    if problems := template_problems(checked):
        raise ValidationError(problems)
    return step


def _preview(flow_: Flow, number: int, step: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
    who = {"email": form["contact_email"]} if form.get("contact_email") else {}
    return render.compose(account().id, flow_, number, step, who)
