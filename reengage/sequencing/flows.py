"""Flows of an account: created from a template or an export, changed, exported, deleted."""

from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import delete, select

from reengage.models import Enrollment, Flow, FlowRoute
from reengage.platform import db
from reengage.platform.errors import ApiError, invalid
from reengage.sequencing import enrollments, templates
from reengage.sequencing.definition import FlowDefinitionSchema

# What a definition holds that the flow row keeps (enroll_on lives in flow_routes).
STORED = ("key", "name", "description", "template", "goal_events", "holdout_percent", "settings", "enabled", "phases")


def definition(flow: Flow, routes: list[str] | None = None) -> dict[str, Any]:
    """The flow as an importable definition (what export answers and POST /v1/flows takes)."""
    enroll_on = routes if routes is not None else routes_of([flow.id])[flow.id]
    return {**{name: getattr(flow, name) for name in STORED}, "enroll_on": enroll_on}


def routes_of(flow_ids: list[int]) -> dict[int, list[str]]:
    """The selectors that enroll into each of these flows, in one query."""
    found: dict[int, list[str]] = {flow_id: [] for flow_id in flow_ids}
    query = select(FlowRoute.flow_id, FlowRoute.selector).where(FlowRoute.flow_id.in_(flow_ids))
    for flow_id, selector in db.session().execute(query.order_by(FlowRoute.selector)):
        found[flow_id].append(selector)
    return found


def from_template(key: str, changes: dict[str, Any]) -> dict[str, Any]:
    """The template `key` with `changes` applied, as a definition still to be checked."""
    template = templates.library().get(key)
    if template is None:
        raise invalid({"template": [f"No template {key!r}; GET /v1/templates lists them."]})
    base = {name: value for name, value in template.items() if name != "family"}
    return {**base, "template": key, **changes}


def check(raw: dict[str, Any]) -> dict[str, Any]:
    """`raw` checked as a whole definition (every template compiled and rendered); 422 naming each problem."""
    try:
        return FlowDefinitionSchema().load(raw)
    except ValidationError as error:
        raise invalid(error.messages) from None


def create(account_id: int, data: dict[str, Any]) -> Flow:
    """Save a checked definition as a new flow of the account, with its routes."""
    db_session = db.session()
    if find_by_key(account_id, data["key"]) is not None:
        raise ApiError(409, "conflict", f"A flow with key {data['key']!r} exists; choose another key or PATCH it.",
                       {"fields": [{"field": "key", "message": "Already used in this account."}]})
    flow = Flow(account_id=account_id, **{name: data[name] for name in STORED if name in data})
    db_session.add(flow)
    db_session.flush()
    set_routes(flow, data["enroll_on"])
    return flow


def update(flow: Flow, changes: dict[str, Any]) -> Flow:
    """Apply `changes` and check the result whole; scheduled messages keep their times and take the new content."""
    merged = check({**definition(flow), **changes})
    if merged["key"] != flow.key and find_by_key(flow.account_id, merged["key"]) is not None:
        raise ApiError(409, "conflict", f"A flow with key {merged['key']!r} exists.",
                       {"fields": [{"field": "key", "message": "Already used in this account."}]})
    for name in STORED:
        setattr(flow, name, merged[name])
    if "enroll_on" in changes:
        set_routes(flow, merged["enroll_on"])
    return flow


def set_routes(flow: Flow, selectors: list[str]) -> None:
    """Make `selectors` (and only they) enroll into `flow`; a selector another flow holds is a 409."""
    db_session = db.session()
    wanted = sorted(set(selectors))
    query = select(FlowRoute.selector, Flow.key).join(Flow, Flow.id == FlowRoute.flow_id).where(
        FlowRoute.account_id == flow.account_id, FlowRoute.selector.in_(wanted), FlowRoute.flow_id != flow.id)
    taken = db_session.execute(query).all()
    if taken:
        problems = [{"field": "enroll_on", "message": f"{selector!r} already enrolls into flow {key!r}."}
                    for selector, key in taken]
        raise ApiError(409, "conflict", f"{problems[0]['message']} Remove it there first, or leave it out here.",
                       {"fields": problems})
    db_session.execute(delete(FlowRoute).where(FlowRoute.flow_id == flow.id))
    for selector in wanted:
        db_session.add(FlowRoute(account_id=flow.account_id, selector=selector, flow_id=flow.id))
    db_session.flush()


def remove(flow: Flow, at: datetime) -> int:
    """Delete `flow`: no more enrollments, active ones exit; its history stays. Answer how many exited."""
    flow.deleted_at = at
    db.session().execute(delete(FlowRoute).where(FlowRoute.flow_id == flow.id))
    active = select(Enrollment.id).where(Enrollment.flow_id == flow.id, Enrollment.status == "active")
    return enrollments.end(db.session().scalars(active), "flow_deleted", at)


def find_by_key(account_id: int, key: str) -> Flow | None:
    """The live flow of this key, if any."""
    return db.session().scalar(select(Flow).where(Flow.account_id == account_id, Flow.key == key,
                                                  Flow.deleted_at.is_(None)))


def find(account_id: int, ref: int | str) -> Flow:
    """The live flow with this id (a number) or key; 404 otherwise."""
    if isinstance(ref, int) or str(ref).isdigit():
        flow = db.session().scalar(select(Flow).where(Flow.account_id == account_id, Flow.id == int(ref),
                                                      Flow.deleted_at.is_(None)))
    else:
        flow = find_by_key(account_id, str(ref))
    if flow is None:
        raise ApiError(404, "not_found", f"No flow {ref!r} in this account.")
    return flow
