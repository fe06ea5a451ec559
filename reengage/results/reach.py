"""What a group by a message's dimension counts once per dropoff its messages reached: how many dropoffs, how
many of them re-engaged (a message there opened or clicked), the median time from detection to the first
message there; and the median time to the recoveries credited to the group.

None of these can be summed from rollups. When one message dimension alone is grouped or filtered by, they
are read from each counted dropoff's reach by that dimension's values (reengage.models.rollup.DropoffTouch),
one row per dropoff and group; with more than one, from the group's sent messages. Either way the database
orders each group's values and hands back only its size, its re-engaged count and its middle value or two.
"""

from typing import Any

from sqlalchemy import case, func, or_, select

from reengage.models import Dropoff, DropoffTouch, Enrollment, Flow, Message
from reengage.platform import db
from reengage.results import messages, rollups

TOUCHED = DropoffTouch.__table__.c
KEYS = {"flow": Flow.key, "phase": TOUCHED.phase, "channel": TOUCHED.channel, "variant": TOUCHED.variant,
        "scenario": TOUCHED.scenario, "stage": TOUCHED.stage, "rule": TOUCHED.rule_key}


def figures(groups: dict[Any, dict[str, Any]], account_id: int, filters: dict[str, Any], key, scoped: list,
            rolled: bool, medians: tuple[str, ...]) -> None:
    """Add each group's reach for the dropoffs passing `scoped` and the message filters (`key` groups the
    messages), and the `medians` asked for; `rolled`: from the dropoffs' reach when one message dimension alone
    is involved."""
    middle = "first_touch_seconds" in medians
    by = filters.get("group_by")
    by_message = by in messages.DIMENSIONS
    involved = {name for name in messages.DIMENSIONS if name in filters or name == by}
    if rolled and len(involved) == 1:
        rows = _touched(account_id, filters, involved.pop(), middle)
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


def _touched(account_id: int, filters: dict[str, Any], dimension: str, middle: bool) -> list[tuple]:
    """Per group, from the reach of the dropoffs by `dimension`'s values."""
    by = filters.get("group_by")
    key = (rollups.day(TOUCHED.detected_at) if by == "day" else KEYS[by]) if by else TOUCHED.account_id
    where = [TOUCHED.account_id == account_id, TOUCHED.dimension == dimension,
             *(KEYS[name] == filters[name] for name in (*KEYS, ) if name in filters)]
    if "from" in filters:
        where.append(TOUCHED.detected_at >= filters["from"])
    if "to" in filters:
        where.append(TOUCHED.detected_at < filters["to"])
    if dimension == "flow":
        where.append(Flow.id == TOUCHED.flow_id)
    return _per_group(key, TOUCHED.first_touch_us, where, TOUCHED.engaged, middle)


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
