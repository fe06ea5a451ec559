"""Rules in the console: each with its scenario and kind explained, its events, its wait, on or off.

Saving is the API's PATCH /v1/rules/{key}: RulePatchSchema, then the rule kind's own params schema.
"""

import sys
from typing import Any

from flask import redirect, request, url_for
from sqlalchemy import select

from reengage.detection import catalogue
from reengage.detection.detectors import DETECTORS
from reengage.models import Rule
from reengage.platform import db
from reengage.schemas.rule import RulePatchSchema
from reengage.web.console.base import account, attempt, blp, page
from reengage.web.routes import rules as rule_routes

# The params that say how long a rule waits, by kind (a rule shows and edits the one its kind has).
WAITS = ("wait", "settle", "window")


def explained(kind: str) -> str:
    """What a rule kind detects, in the words of its detector's own module."""
    module = sys.modules[DETECTORS[kind].on_event.__module__]
    return (module.__doc__ or kind).strip().splitlines()[0]


def _shown(rule: Rule) -> dict[str, Any]:
    scenario = catalogue.BY_KEY.get(rule.scenario)
    return {"rule": rule, "scenario": scenario.name if scenario else rule.scenario, "explained": explained(rule.kind),
            "wait": next(((name, rule.params[name]) for name in WAITS if name in rule.params), None),
            "events": {name: value for name, value in rule.params.items() if name.endswith("_events")
                       and isinstance(value, list | dict) and value},
            "match_key": rule.params.get("match_key")}


@blp.route("/rules")
def rules(problems: dict | None = None, failed: str | None = None, status: int = 200):
    """Every rule of the account."""
    listed = db.session().scalars(select(Rule).where(Rule.account_id == account().id).order_by(Rule.key)).all()
    return page("rules.html", rules=[_shown(rule) for rule in listed], problems=problems or {}, failed=failed), status


@blp.route("/rules/<key>", methods=["POST"])
def save_rule(key: str):
    """Turn a rule on or off, change its wait, its event names and its match key."""
    changes: dict[str, Any] = {"enabled": request.form.get("enabled") == "on"}
    params: dict[str, Any] = {}
    wait = request.form.get("wait_name")
    if wait in WAITS:
        params[wait] = request.form.get("wait", "")
    # Lists of event names, one a line (an error-to-category mapping stays an API edit).
    for name in request.form.getlist("event_lists"):
        if name.endswith("_events"):
            params[name] = [line.strip() for line in request.form.get(name, "").splitlines() if line.strip()]
    if request.form.get("match_key", "").strip():
        params["match_key"] = request.form["match_key"].strip()
    if params:
        changes["params"] = params
    _, problems = attempt(lambda: rule_routes.change(key, RulePatchSchema().load(changes)), "params")
    if problems:
        return rules(problems, key, 422)
    return redirect(url_for("console.rules", saved=key) + f"#rule-{key}")
