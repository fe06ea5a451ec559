"""Recovery metrics for a period, filtered and grouped, as `GET /v1/metrics` answers them.

Dropoffs are counted by when they were detected. Grouped by a dropoff's own dimension (scenario,
stage, rule, day), a group's recoveries are all its dropoffs' recoveries. Grouped by a message's
dimension (flow, phase, channel, variant), a group holds the dropoffs its sent messages reached and
the recoveries credited to it: each recovery goes to the last message sent before it, within the
account's attribution window. Held-out enrollments get no messages; their recoveries count for
their dropoffs only.
"""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from statistics import median
from typing import Any

from sqlalchemy import func, select

from reengage import db
from reengage.models import Dropoff, Enrollment, Flow, Message

DROPOFF_GROUPS = {"scenario": Dropoff.scenario, "stage": Dropoff.stage, "rule": Dropoff.rule_key,
                  "day": func.date(Dropoff.detected_at)}
MESSAGE_GROUPS = {"flow": Flow.key, "phase": Message.phase, "channel": Message.channel, "variant": Message.variant}
GROUPS = (*DROPOFF_GROUPS, *MESSAGE_GROUPS)
DROPOFF_FILTERS = {"scenario": Dropoff.scenario, "stage": Dropoff.stage, "rule": Dropoff.rule_key}
MESSAGE_FILTERS = {"flow": Flow.key, "phase": Message.phase, "channel": Message.channel, "variant": Message.variant}


def metrics(account_id: int, filters: dict[str, Any], settings: dict[str, Any]) -> list[dict[str, Any]]:
    """One row of figures per group (one row in all without `group_by`), largest groups first."""
    window = settings["attribution_window"]
    costs = {channel: Decimal(str(cost)) for channel, cost in settings["costs"].items()}
    where = [Dropoff.account_id == account_id, *(column == filters[name] for name, column in DROPOFF_FILTERS.items()
                                                   if name in filters)]
    if "from" in filters:
        where.append(Dropoff.detected_at >= filters["from"])
    if "to" in filters:
        where.append(Dropoff.detected_at < filters["to"])
    message_where = [Message.sent_at.is_not(None), *(column == filters[name] for name, column
                                                     in MESSAGE_FILTERS.items() if name in filters)]
    by = filters.get("group_by")
    groups: dict[Any, dict[str, Any]] = defaultdict(_empty)
    key = DROPOFF_GROUPS.get(by)
    dropoff_rows = db.session().execute(select(
        key if key is not None else Dropoff.account_id, Dropoff.id, Dropoff.detected_at, Dropoff.recovered_at,
        Dropoff.recovery_seconds, Dropoff.revenue).where(*where)).all() if by not in MESSAGE_GROUPS else []
    messages = db.session().execute(select(
        MESSAGE_GROUPS[by] if by in MESSAGE_GROUPS else Message.account_id, Enrollment.dropoff_id, Message.channel,
        Message.sent_at, Message.delivered_at, Message.opened_at, Message.clicked_at)
        .join(Enrollment, Enrollment.id == Message.enrollment_id).join(Dropoff, Dropoff.id == Enrollment.dropoff_id)
        .join(Flow, Flow.id == Message.flow_id).where(*where, *message_where)).all()
    group_of = {row.id: (row[0] if key is not None else None) for row in dropoff_rows}
    enrolled = _enrolled(where, set(group_of)) if by not in MESSAGE_GROUPS else set()
    reached: dict[Any, dict[int, Any]] = defaultdict(dict)  # group -> dropoff -> first touch
    engaged: dict[Any, set[int]] = defaultdict(set)
    for row in messages:
        group = row[0] if by in MESSAGE_GROUPS else group_of.get(row.dropoff_id)
        figures = groups[group]
        figures["messages_sent"] += 1
        figures["delivered"] += row.delivered_at is not None
        figures["opened"] += row.opened_at is not None
        figures["clicked"] += row.clicked_at is not None
        figures["cost"] += costs.get(row.channel, Decimal(0))
        first = reached[group].get(row.dropoff_id)
        reached[group][row.dropoff_id] = row.sent_at if first is None or row.sent_at < first else first
        if row.opened_at is not None or row.clicked_at is not None:
            engaged[group].add(row.dropoff_id)
    if by in MESSAGE_GROUPS:
        detected = dict(db.session().execute(select(Dropoff.id, Dropoff.detected_at).where(
            Dropoff.id.in_({d for found in reached.values() for d in found}))).all()) if reached else {}
        for group, credited in _credited(where, filters, by, window).items():
            figures = groups[group]
            figures["recovered"] = len(credited)
            figures["revenue"] = sum((revenue or Decimal(0) for revenue, _ in credited), Decimal(0))
            figures["recovery_seconds"] = [seconds for _, seconds in credited if seconds is not None]
        for group, found in reached.items():
            groups[group]["dropoffs"] = groups[group]["enrolled"] = len(found)
    else:
        detected = {row.id: row.detected_at for row in dropoff_rows}
        for row in dropoff_rows:
            figures = groups[group_of[row.id]]
            figures["dropoffs"] += 1
            figures["enrolled"] += row.id in enrolled
            if row.recovered_at is not None:
                figures["recovered"] += 1
                figures["revenue"] += row.revenue or Decimal(0)
                if row.recovery_seconds is not None:
                    figures["recovery_seconds"].append(row.recovery_seconds)
    for group, found in reached.items():
        groups[group]["first_touch_seconds"] = [(sent - detected[d]).total_seconds() for d, sent in found.items()
                                                if d in detected]
        groups[group]["re_engaged"] = len(engaged[group])
    rows = [_finish(group, figures, by) for group, figures in groups.items()]
    return sorted(rows, key=lambda r: (-r["dropoffs"], str(r["group"]))) if by else rows or [_finish(None, _empty(),
                                                                                                       None)]


def _enrolled(where: list, dropoff_ids: set[int]) -> set[int]:
    """Dropoffs with a treated (not held-out) enrollment."""
    if not dropoff_ids:
        return set()
    return set(db.session().scalars(select(Enrollment.dropoff_id).join(Dropoff, Dropoff.id == Enrollment.dropoff_id)
                                    .where(*where, Enrollment.holdout.is_(False)).distinct()))


def _credited(where: list, filters: dict[str, Any], by: str, window: timedelta) -> dict[Any, list[tuple]]:
    """Per message group: (revenue, recovery seconds) of each recovery credited to its last message in the window.

    The last message is chosen among all the dropoff's sent messages; the filters then decide whether it counts.
    """
    sent = (select(Enrollment.dropoff_id, Message.sent_at, Message.id, *MESSAGE_FILTERS.values(), Dropoff.recovered_at,
                   Dropoff.revenue, Dropoff.recovery_seconds)
            .join(Enrollment, Enrollment.id == Message.enrollment_id).join(Dropoff, Dropoff.id == Enrollment.dropoff_id)
            .join(Flow, Flow.id == Message.flow_id)
            .where(*where, Dropoff.recovered_at.is_not(None), Message.sent_at.is_not(None),
                   Message.sent_at <= Dropoff.recovered_at))
    last: dict[int, Any] = {}
    for row in db.session().execute(sent):
        known = last.get(row.dropoff_id)
        if known is None or (row.sent_at, row.id) > (known.sent_at, known.id):
            last[row.dropoff_id] = row
    credited: dict[Any, list[tuple]] = defaultdict(list)
    for row in last.values():
        values = dict(zip(MESSAGE_FILTERS, row[3:3 + len(MESSAGE_FILTERS)], strict=True))
        if row.recovered_at - row.sent_at <= window and all(values[n] == filters[n] for n in MESSAGE_FILTERS
                                                               if n in filters):
            credited[values[by]].append((row.revenue, row.recovery_seconds))
    return credited


def _empty() -> dict[str, Any]:
    return {"dropoffs": 0, "enrolled": 0, "messages_sent": 0, "delivered": 0, "opened": 0, "clicked": 0,
            "re_engaged": 0, "recovered": 0, "revenue": Decimal(0), "cost": Decimal(0), "recovery_seconds": [],
            "first_touch_seconds": []}


def _finish(group: Any, figures: dict[str, Any], by: str | None) -> dict[str, Any]:
    recovered, dropoffs = figures["recovered"], figures["dropoffs"]
    return {
        "group": None if by is None else group, **{name: figures[name] for name in (
            "dropoffs", "enrolled", "messages_sent", "delivered", "opened", "clicked", "re_engaged", "recovered")},
        "recovery_rate": round(recovered / dropoffs, 4) if dropoffs else None,
        "revenue": float(figures["revenue"]), "cost": float(figures["cost"]),
        "cost_per_recovery": float(round(figures["cost"] / recovered, 4)) if recovered else None,
        "median_time_to_first_touch_seconds": median(figures["first_touch_seconds"])
        if figures["first_touch_seconds"] else None,
        "median_time_to_recovery_seconds": median(figures["recovery_seconds"]) if figures["recovery_seconds"] else None,
    }
