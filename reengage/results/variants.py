"""What each variant of a flow's step got, for the A/B tests (reengage.results.experiments).

Messages sent and clicked come from the message rollups for a period's whole UTC days and from the
messages for its partial days (reengage.results.messages). Recoveries within the attribution window
depend on the window asked with, so they are counted from the recovered dropoffs' messages alone.
"""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select

from reengage.models import Dropoff, Flow, Message, MessageRollup
from reengage.models.rollup import REVENUE_SCALE
from reengage.platform import db
from reengage.results import messages, rollups

ROLLED = MessageRollup.__table__.c
STEP = (Flow.key, Message.step, Message.phase, Message.variant)


def counted(account_id: int, filters: dict[str, Any], undated: list, scoped: list, window: timedelta,
            rolled: bool) -> tuple[dict[tuple, dict[str, dict[str, Any]]], dict[str, str]]:
    """Per (flow, phase, step), each variant's messages sent and clicked, its recoveries within `window` after it
    went and their revenue per currency; and each flow's name. `undated`/`scoped`: the dropoffs passing the
    filters in any period / in the period; `rolled`: whole days from the rollups."""
    flow = [Flow.key == filters["flow"]] if "flow" in filters else []
    steps: dict[tuple, dict[str, dict[str, Any]]] = defaultdict(dict)
    names: dict[str, str] = {}
    days, edges = rollups.split(filters.get("from"), filters.get("to")) if rolled else (None, None)
    rows: list[Any] = []
    if days is not None:
        rows += db.session().execute(
            select(Flow.key, Flow.name, ROLLED.step, ROLLED.phase, ROLLED.variant, func.sum(ROLLED.messages_sent),
                   func.sum(ROLLED.clicked)).join_from(MessageRollup, Flow, Flow.id == ROLLED.flow_id)
            .where(*messages.rolled(account_id, filters, days), ROLLED.variant != "")
            .group_by(Flow.key, Flow.name, ROLLED.step, ROLLED.phase, ROLLED.variant)
            .having(func.sum(ROLLED.messages_sent) > 0)).all()
    for where in ([scoped] if not rolled else [[*undated, rollups.detected_within(edges)]] if edges else []):
        rows += db.session().execute(messages.sent(
            Flow.key, Flow.name, Message.step, Message.phase, Message.variant, func.count(),
            func.count(Message.clicked_at)).where(*where, *flow, Message.variant.is_not(None))
            .group_by(Flow.key, Flow.name, Message.step, Message.phase, Message.variant)).all()
    for key, name, step, phase, variant, count, clicked in rows:
        names[key] = name
        figures = steps[(key, phase, step)].setdefault(variant, unsent(variant))
        figures["sent"] += int(count)
        figures["clicked"] += int(clicked or 0)
    for key, step, phase, variant, currency, count, revenue in db.session().execute(
            recoveries([*scoped, *flow], window)):
        figures = steps[(key, phase, step)].setdefault(variant, unsent(variant))
        figures["recovered"] += count
        # Kept per currency: amounts in different currencies are never added up.
        figures["revenue"][currency] = figures["revenue"].get(currency, Decimal(0)) + Decimal(str(revenue or 0))
    return steps, names


def recoveries(where: list, window: timedelta) -> Select[Any]:
    """Per step, variant and currency, the recovered dropoffs passing `where` whose variant went at most `window`
    before the recovery, and their revenue. Read through the recovered dropoffs' own index and the sent variants'
    (reengage.models: the window bounds the search for a dropoff's variants)."""
    return (messages.sent(*STEP, Dropoff.currency, func.count(), messages.exact_sum(Dropoff.revenue, REVENUE_SCALE))
            .where(*where, Message.variant.is_not(None), Dropoff.recovered_at.is_not(None),
                   Dropoff.recovered_at >= Message.sent_at,
                   messages.at_most_before(Message.sent_at, Dropoff.recovered_at, window))
            .group_by(*STEP, Dropoff.currency))


def unsent(variant: str) -> dict[str, Any]:
    """A variant's figures before any of its messages went."""
    return {"variant": variant, "sent": 0, "clicked": 0, "recovered": 0, "revenue": {}}
