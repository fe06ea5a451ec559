"""Recovery metrics for a period, filtered and grouped, as `GET /v1/metrics` answers them.

Dropoffs are counted by when they were detected. Grouped by a dropoff's own dimension (scenario,
stage, rule, day), a group's recoveries are all its dropoffs' recoveries. Grouped by a message's
dimension (flow, phase, channel, variant), a group holds the dropoffs its sent messages reached and
the recoveries credited to it: each recovery goes to the last message sent before it, within the
account's attribution window, chosen when it is recovered (reengage.results.tally). Held-out
enrollments get no messages; their recoveries count for their dropoffs only.
"""

from collections import defaultdict
from datetime import date
from decimal import Decimal
from statistics import median
from typing import Any

from sqlalchemy import case, distinct, func, null, or_, select

from reengage.models import Dropoff, Enrollment
from reengage.platform import db
from reengage.results import messages, reach, rollups

# Whether figures come from the rollups (the benchmark and the tests turn it off to time and compare the scan they
# replace, in the same run).
ROLLUPS = True
# What metrics filter and group by: a dropoff's own dimensions (and the day it was detected), and a message's.
DROPOFF_DIMENSIONS = {"scenario": Dropoff.scenario, "stage": Dropoff.stage, "rule": Dropoff.rule_key}
MESSAGE_DIMENSIONS = messages.DIMENSIONS
# What a group's messages make: with a message filter, these come from the messages passing it.
MESSAGE_FIGURES = ("messages_sent", "delivered", "opened", "clicked", "machine_opened", "cost", "re_engaged",
                   "first_touch_seconds")
GROUPS = (*DROPOFF_DIMENSIONS, "day", *MESSAGE_DIMENSIONS)
MEDIANS = ("first_touch_seconds", "recovery_seconds")


def metrics(account_id: int, filters: dict[str, Any], medians: tuple[str, ...] = MEDIANS) -> list[dict[str, Any]]:
    """One row of figures per group (one row in all without `group_by`), largest groups first; the median times
    not in `medians` (a page that shows none) are None.

    Counting is done by the database (GROUP BY). The figures of the dropoffs come from the dropoff rollups
    (reengage.results.rollups), which sum each dropoff's tally of its messages (reengage.outcomes.tally) per
    UTC day; with a message dimension (to group or filter by), the message figures come from the message
    rollups (reengage.results.messages).
    """
    where, undated = scope(account_id, filters), dimensions(account_id, filters)
    by = filters.get("group_by")
    tallied = by not in MESSAGE_DIMENSIONS and not any(name in filters for name in MESSAGE_DIMENSIONS)
    key = ((MESSAGE_DIMENSIONS.get(by) or DROPOFF_DIMENSIONS.get(by) or rollups.day(Dropoff.detected_at)) if by
           else Dropoff.account_id)
    groups: dict[Any, dict[str, Any]] = defaultdict(_empty)
    if by not in MESSAGE_DIMENSIONS:
        groups = _by_dropoff(account_id, filters, key, undated, where, tallied, medians)
    if not tallied:
        messages.figures(groups, account_id, filters, key, undated, where, ROLLUPS)
        reach.figures(groups, account_id, filters, key, where, ROLLUPS, medians)
    rows = [_finish(group, {**figures, **{name: [] for name in MEDIANS if name not in medians}}, by)
            for group, figures in groups.items()]
    if by:
        return sorted(rows, key=lambda r: (-r["dropoffs"], str(r["group"])))
    return rows or [_finish(None, _empty(), None)]


def _by_dropoff(account_id: int, filters: dict[str, Any], key, undated: list, where: list, tallied: bool,
                medians: tuple[str, ...]) -> dict[Any, dict[str, Any]]:
    """Each group's figures of its dropoffs; with a message filter, none of their messages' (those come after)."""
    if ROLLUPS:
        groups = rollups.figures(account_id, filters, filters.get("group_by"), undated, where, key, _empty,
                                 tuple(name for name in medians if tallied or name == "recovery_seconds"))
        if not tallied:
            for figures in groups.values():
                figures.update({name: _empty()[name] for name in MESSAGE_FIGURES})
        return groups
    groups = defaultdict(_empty)
    session = db.session()
    tally = (func.sum(Dropoff.messages_sent), func.sum(Dropoff.messages_delivered),
             func.sum(Dropoff.messages_opened), func.sum(Dropoff.messages_clicked), func.sum(Dropoff.message_cost),
             func.sum(Dropoff.messages_machine_opened),
             func.count(case((Dropoff.re_engaged, 1)))) if tallied else ()
    for group, count, recovered, revenue, *tallies in session.execute(select(
            key, func.count(), func.count(Dropoff.recovered_at), func.sum(Dropoff.revenue), *tally)
            .where(*where).group_by(key)):
        figures = groups[rollups.plain(group)]
        figures["dropoffs"], figures["recovered"] = count, recovered
        figures["revenue"] = Decimal(str(revenue or 0))
        if tallied:
            sent, delivered, opened, clicked, cost, machine_opened, re_engaged = tallies
            figures.update(messages_sent=sent or 0, delivered=delivered or 0, opened=opened or 0,
                           clicked=clicked or 0, cost=Decimal(str(cost or 0)), re_engaged=re_engaged,
                           machine_opened=machine_opened or 0)
    for group, count in session.execute(select(key, func.count(distinct(Enrollment.dropoff_id))).join(
            Dropoff, Dropoff.id == Enrollment.dropoff_id).where(*where, Enrollment.holdout.is_(False))
            .group_by(key)):
        groups[rollups.plain(group)]["enrolled"] = count
    touched = Dropoff.first_touch_seconds if tallied else null()
    for group, first_touch, recovery in session.execute(select(key, touched, Dropoff.recovery_seconds).where(
            *where, or_(touched.is_not(None), Dropoff.recovery_seconds.is_not(None)))):
        figures = groups[rollups.plain(group)]
        if first_touch is not None:
            figures["first_touch_seconds"].append(first_touch)
        if recovery is not None:
            figures["recovery_seconds"].append(recovery)
    return groups


def scope(account_id: int, filters: dict[str, Any]) -> list:
    """The account's dropoffs detected in the period (`from` inclusive, `to` exclusive) passing the filters."""
    where = dimensions(account_id, filters)
    if "from" in filters:
        where.append(Dropoff.detected_at >= filters["from"])
    if "to" in filters:
        where.append(Dropoff.detected_at < filters["to"])
    return where


def dimensions(account_id: int, filters: dict[str, Any]) -> list:
    """The account's counted dropoffs passing the filters on a dropoff's own dimensions, in any period.

    Retracted dropoffs (false alarms: their goal happened in time and arrived late) count nowhere; test dropoffs
    (the console's "try it now") are shown but never counted.
    """
    return [Dropoff.account_id == account_id, Dropoff.test.is_(False), Dropoff.status != "retracted",
            *(column == filters[name] for name, column in DROPOFF_DIMENSIONS.items() if name in filters)]


def _empty() -> dict[str, Any]:
    return {"dropoffs": 0, "enrolled": 0, "messages_sent": 0, "delivered": 0, "opened": 0, "clicked": 0,
            "machine_opened": 0,
            "re_engaged": 0, "recovered": 0, "revenue": Decimal(0), "cost": Decimal(0), "recovery_seconds": [],
            "first_touch_seconds": []}


def _finish(group: Any, figures: dict[str, Any], by: str | None) -> dict[str, Any]:
    recovered, dropoffs = figures["recovered"], figures["dropoffs"]
    return {
        "group": None if by is None else group.isoformat() if isinstance(group, date) else group,
        **{name: figures[name] for name in (
            "dropoffs", "enrolled", "messages_sent", "delivered", "opened", "clicked", "machine_opened", "re_engaged",
            "recovered")},
        "recovery_rate": round(recovered / dropoffs, 4) if dropoffs else None,
        "revenue": float(figures["revenue"]), "cost": float(figures["cost"]),
        "cost_per_recovery": float(round(figures["cost"] / recovered, 4)) if recovered else None,
        "median_time_to_first_touch_seconds": median(figures["first_touch_seconds"])
        if figures["first_touch_seconds"] else None,
        "median_time_to_recovery_seconds": median(figures["recovery_seconds"]) if figures["recovery_seconds"] else None,
    }
