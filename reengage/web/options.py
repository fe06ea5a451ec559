"""Dropdown sources: the choices a Zap or scenario offers for flows, scenarios, rules and phases."""

from sqlalchemy import select

from reengage.detection.catalogue import SCENARIOS
from reengage.models import Flow, Rule
from reengage.platform import db
from reengage.sequencing.phases import PHASES, window


def flows(account_id: int) -> list[dict]:
    """The account's live flows, by key."""
    query = select(Flow.key, Flow.name).where(Flow.account_id == account_id, Flow.deleted_at.is_(None))
    return [{"id": key, "name": name} for key, name in db.session().execute(query.order_by(Flow.name))]


def rules(account_id: int) -> list[dict]:
    """The account's rules, by key."""
    query = select(Rule.key, Rule.name).where(Rule.account_id == account_id)
    return [{"id": key, "name": name} for key, name in db.session().execute(query.order_by(Rule.name))]


def scenarios(account_id: int) -> list[dict]:
    """The catalogued scenarios, then any other scenario the account's rules name."""
    listed = {scenario.key: scenario.name for scenario in SCENARIOS}
    query = select(Rule.scenario).where(Rule.account_id == account_id).distinct()
    own = sorted(set(db.session().scalars(query)) - set(listed))
    return [{"id": key, "name": name} for key, name in listed.items()] + [{"id": key, "name": key} for key in own]


def phases(account_id: int) -> list[dict]:
    """The five phases of every flow."""
    return [{"id": phase.number, "name": f"{phase.number}. {phase.name} ({window(phase)})"} for phase in PHASES]


SOURCES = {"flows": flows, "scenarios": scenarios, "rules": rules, "phases": phases}
