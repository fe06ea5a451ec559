"""Send-time learning against the window's first slot: each flow's enrollments that learned a send hour,
and those kept on the window's first slot (the holdout share), with lift and its interval.

Both groups are messaged; only the hour differs. Counted like the holdout results: a group's recovery rate
is its recovered dropoffs over its enrollments, for dropoffs detected in the period.
"""

from collections import defaultdict
from typing import Any

from sqlalchemy import select

from reengage.models import Dropoff, Enrollment, Flow
from reengage.platform import db
from reengage.results import stats
from reengage.results.metrics import scope
from reengage.sequencing.sendtime import FIRST_SLOT, LEARNED


def comparison(account_id: int, filters: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per flow that learned send times in the period: learned against first slot."""
    where = [*scope(account_id, filters), Enrollment.holdout.is_(False)]
    if "flow" in filters:
        where.append(Flow.key == filters["flow"])
    groups: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: {LEARNED: [0, 0], FIRST_SLOT: [0, 0]})
    for flow, name, variants, recovered_at in db.session().execute(
            select(Flow.key, Flow.name, Enrollment.variants, Dropoff.recovered_at)
            .select_from(Enrollment).join(Dropoff, Dropoff.id == Enrollment.dropoff_id)
            .join(Flow, Flow.id == Enrollment.flow_id).where(*where)):
        group = (variants or {}).get("send_time")
        if group in (LEARNED, FIRST_SLOT):
            figures = groups[(flow, name)][group]
            figures[0] += 1
            figures[1] += recovered_at is not None
    return [_compare(flow, name, split) for (flow, name), split in sorted(groups.items())]


def _compare(flow: str, name: str, split: dict[str, list[int]]) -> dict[str, Any]:
    (learned, learned_hits), (first, first_hits) = split[LEARNED], split[FIRST_SLOT]
    lifted = stats.lift(learned_hits, learned, first_hits, first)
    compared = stats.compare(first_hits, first, learned_hits, learned, ("first slot", "learned"))
    return {
        "flow": flow, "flow_name": name,
        "learned": {"enrolled": learned, "recovered": learned_hits, "recovery_rate": lifted.treated_rate},
        "first_slot": {"enrolled": first, "recovered": first_hits, "recovery_rate": lifted.held_out_rate},
        "lift": {"absolute": lifted.absolute, "relative": lifted.relative, "low": lifted.low, "high": lifted.high,
                 "confidence": 0.95},
        "p_value": compared.p_value, "verdict": compared.verdict,
    }
