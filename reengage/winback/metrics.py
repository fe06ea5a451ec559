"""Win-back results, as the seed measures them, for deals lost in a period, overall or by group.

- re-engagement rate: deals that replied / deals contacted
- meeting conversion: deals with a meeting / deals that replied
- opportunity creation: deals with a new opportunity / deals with a meeting
- win rate: deals won / deals with a new opportunity
- time to re-engagement: mean days from the loss to the first reply
A rate with nothing to divide by is null, never 0.
"""

from collections import defaultdict
from datetime import datetime
from typing import Any, cast

from sqlalchemy import func, select

from reengage.models import Deal
from reengage.platform import db

GROUPS = {"category": Deal.category, "owner": Deal.owner, "priority": Deal.priority, "timing": Deal.timing}
COUNTS = {"deals": Deal.id, "contacted": Deal.contacted_at, "replied": Deal.replied_at, "meetings": Deal.meeting_at,
          "opportunities": Deal.opportunity_at, "won": Deal.won_at}
RATES = {"re_engagement_rate": ("replied", "contacted"), "meeting_conversion": ("meetings", "replied"),
         "opportunity_creation": ("opportunities", "meetings"), "win_rate": ("won", "opportunities")}
DAY = 86_400


def metrics(account_id: int, filters: dict[str, Any]) -> dict[str, Any]:
    """The figures overall and, when `group_by` is given, per group."""
    where = [Deal.account_id == account_id]
    if "lost_from" in filters:
        where.append(Deal.lost_at >= filters["lost_from"])
    if "lost_to" in filters:
        where.append(Deal.lost_at < filters["lost_to"])
    for name in ("category", "owner"):
        if name in filters:
            where.append(GROUPS[name] == filters[name])
    key = GROUPS.get(filters.get("group_by", ""))
    counted = [func.count(column).label(name) for name, column in COUNTS.items()]
    grouping = [key] if key is not None else []
    rows = db.session().execute(select(*grouping, *counted).where(*where).group_by(*grouping)).all()
    days: dict[Any, list[float]] = defaultdict(list)
    for group, lost_at, replied_at in db.session().execute(select(
            key if key is not None else Deal.account_id, Deal.lost_at, Deal.replied_at).where(
            *where, Deal.replied_at.is_not(None))):
        replied = cast(datetime, replied_at)  # only replied deals are read
        days[group if key is not None else None].append((replied - lost_at).total_seconds() / DAY)
    figures = [_figures(row, days[row[0] if key is not None else None], offset=len(grouping)) for row in rows]
    overall = _total(figures, [d for group in days.values() for d in group])
    answer: dict[str, Any] = {"overall": overall, "groups": []}
    if key is not None:
        answer["groups"] = sorted(({"group": row[0], **figure} for row, figure in zip(rows, figures, strict=True)),
                                  key=lambda g: (-g["deals"], str(g["group"])))
    return answer


def _figures(row, days: list[float], offset: int) -> dict[str, Any]:
    counts = {name: row[offset + i] for i, name in enumerate(COUNTS)}
    return _with_rates(counts, days)


def _total(figures: list[dict], days: list[float]) -> dict[str, Any]:
    counts = {name: sum(figure[name] for figure in figures) for name in COUNTS}
    return _with_rates(counts, days)


def _with_rates(counts: dict[str, int], days: list[float]) -> dict[str, Any]:
    rates = {name: round(counts[top] / counts[bottom], 4) if counts[bottom] else None
             for name, (top, bottom) in RATES.items()}
    mean = round(sum(days) / len(days), 2) if days else None
    return {**counts, **rates, "time_to_re_engagement_days": mean}
