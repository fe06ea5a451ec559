"""What a group by a message's dimension counts once per dropoff its messages reached: how many dropoffs, how
many of them re-engaged (a message there opened or clicked), the median time from detection to the first
message there; and the median time to the recoveries credited to the group.

None of these can be summed from rollups. They are read from each counted dropoff's reach
(reengage.models.rollup.DropoffTouch): when one message dimension alone is grouped or filtered by, from its rows
by that dimension's values, one per dropoff and group; with more than one (or a flow key that more than one flow
held), from its rows by all four at once that pass, taken together per dropoff and group. Either way only each
group's size, its re-engaged count and its middle value or two come back: the reach's index holds each group of
one dimension's times in order, so its middle is read at an offset into it; otherwise the database orders each
group's values. Without the rollups (the scan they replace, which the tests and the benchmark compare them with),
from the group's sent messages.
"""

from typing import Any

from sqlalchemy import case, func, or_, select

from reengage.models import Dropoff, DropoffTouch, Enrollment, Flow, Message
from reengage.models.rollup import ALL
from reengage.platform import db
from reengage.results import messages, rollups

TOUCHED = DropoffTouch.__table__.c
KEYS = {"flow": Flow.key, "phase": TOUCHED.phase, "channel": TOUCHED.channel, "variant": TOUCHED.variant,
        "scenario": TOUCHED.scenario, "stage": TOUCHED.stage, "rule": TOUCHED.rule_key}
# Each message dimension's own column in the reach, and what the others hold in a row of another dimension.
OWN = {"flow": TOUCHED.flow_id, "phase": TOUCHED.phase, "channel": TOUCHED.channel, "variant": TOUCHED.variant}
UNSET = {"flow": 0, "phase": 0, "channel": "", "variant": ""}


def figures(groups: dict[Any, dict[str, Any]], account_id: int, filters: dict[str, Any], key, scoped: list,
            rolled: bool, medians: tuple[str, ...]) -> None:
    """Add each group's reach for the dropoffs passing `scoped` and the message filters (`key` groups the
    messages), and the `medians` asked for; `rolled`: from the dropoffs' reach when one message dimension alone
    is involved."""
    middle = "first_touch_seconds" in medians
    by = filters.get("group_by")
    by_message = by in messages.DIMENSIONS
    involved = {name for name in messages.DIMENSIONS if name in filters or name == by}
    if rolled and len(involved) == 1 and not (involved == {"flow"} and _key_shared(account_id, filters.get("flow"))):
        rows = _touched(account_id, filters, involved.pop(), middle)
    elif rolled:
        rows = _combined(account_id, filters, "flow" in involved, middle)
    else:
        rows = _sent(key, [*scoped, *messages.choose(filters)], middle)
    for group, values, size, engaged in rows:
        figures = groups[messages.plain(group, by)]
        figures["first_touch_seconds"] = [value / 1_000_000 for value in values]
        figures["re_engaged"] += int(engaged)
        if by_message:
            figures["dropoffs"] += size
            figures["enrolled"] += size
    if by_message and "recovery_seconds" in medians:
        credited = [Message.id == Dropoff.credited_message_id, Flow.id == Message.flow_id, *scoped,
                    *messages.choose(filters)]
        for group, recovery in rollups.middles(key, Dropoff.recovery_seconds, credited).items():
            groups[messages.plain(group)]["recovery_seconds"] = recovery


def _key_shared(account_id: int, key: str | None) -> bool:
    """Whether a flow key (this one; any, when None) is held by more than one of the account's flows (a deleted
    flow's key taken by a new one). The reach is kept per flow, so a dropoff both reached would count twice there."""
    return db.session().scalar(
        select(Flow.key).where(Flow.account_id == account_id, *([Flow.key == key] if key else []))
        .group_by(Flow.key).having(func.count() > 1).limit(1)) is not None


def _touched(account_id: int, filters: dict[str, Any], dimension: str, middle: bool) -> list[tuple]:
    """Per group, from the reach of the dropoffs by `dimension`'s values."""
    key, where = _reached(account_id, filters, dimension, dimension == "flow")
    # Said outright, the unset columns let the database read a group's rows in the index's order.
    where += [OWN[other] == UNSET[other] for other in OWN if other != dimension]
    if middle and filters.get("group_by") in (None, dimension):
        return _in_order(key, OWN[dimension], where)
    return _per_group(key, TOUCHED.first_touch_us, where, TOUCHED.engaged, middle)


def _combined(account_id: int, filters: dict[str, Any], flow: bool, middle: bool) -> list[tuple]:
    """Per group, from the reach of the dropoffs by all four message dimensions at once: each dropoff's rows that
    pass taken together (its earliest first touch, engaged if any was); `flow`: a flow's key is involved."""
    key, where = _reached(account_id, filters, db.constant(ALL), flow)
    per = (select(key.label("grouped"), func.min(TOUCHED.first_touch_us).label("value"),
                  func.max(TOUCHED.engaged).label("engaged"))
           .where(*where).group_by(key, TOUCHED.dropoff_id).subquery())
    return _per_group(per.c.grouped, per.c.value, [], per.c.engaged, middle)


def _reached(account_id: int, filters: dict[str, Any], kind, flow: bool) -> tuple[Any, list]:
    """What groups the reach's rows of `kind`, and which of them pass the filters; `flow`: joined to their flow."""
    by = filters.get("group_by")
    key = (rollups.day(TOUCHED.detected_at) if by == "day" else KEYS[by]) if by else TOUCHED.account_id
    where = [TOUCHED.account_id == account_id, TOUCHED.dimension == kind,
             *(KEYS[name] == filters[name] for name in KEYS if name in filters)]
    if "from" in filters:
        where.append(TOUCHED.detected_at >= filters["from"])
    if "to" in filters:
        where.append(TOUCHED.detected_at < filters["to"])
    if flow:
        where.append(Flow.id == TOUCHED.flow_id)
    return key, where


def _in_order(key, own, where: list) -> list[tuple]:
    """Per group (each one value of the dimension's own column: a flow's key is held by one flow here): its middle
    value or two, read at an offset into the group's index order, its size and how many were engaged."""
    session = db.session()
    grouped = (key,) if key is own else (key, own)  # grouping by a column twice costs the database a sort
    sizes = session.execute(select(key, own, func.count(), func.sum(TOUCHED.engaged)).where(*where)
                            .group_by(*grouped)).all()
    return [(group, rollups.middle_of(TOUCHED.first_touch_us, [*where, own == value], size), size, engaged)
            for group, value, size, engaged in sizes]


def _sent(key, where: list, middle: bool) -> list[tuple]:
    """Per group, from its sent messages, each dropoff's first and whether any was opened or clicked."""
    engaged = func.max(case((or_(Message.opened_at.is_not(None), Message.clicked_at.is_not(None)), 1), else_=0))
    first = messages.microseconds(func.min(Message.sent_at), Dropoff.detected_at)
    per = messages.sent(key.label("grouped"), first.label("value"), engaged.label("engaged")).where(*where).group_by(
        key, Enrollment.dropoff_id, Dropoff.detected_at).subquery()
    return _per_group(per.c.grouped, per.c.value, [], per.c.engaged, middle)


def _per_group(key, value, where: list, engaged, middle: bool) -> list[tuple]:
    """Per group: its middle value or two (none unless `middle`), its size and how many were engaged."""
    if middle:
        return rollups.middle_rows(key, value, where, func.sum(engaged))
    return [(group, [], size, total) for group, size, total in db.session().execute(
        select(key, func.count(), func.sum(engaged)).where(*where).group_by(key))]
