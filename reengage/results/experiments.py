"""Experiments: A/B tests of a flow's steps with variants, and lift over a flow's holdout group.

A/B: the contacts a step's variant went to (its sent messages, for dropoffs detected in the period)
are that variant's group. A variant's click rate is its clicked messages over those sent; its
recovery rate is the share of those contacts whose dropoff was recovered after the variant went and
within the account's attribution window. Its revenue is kept per currency (the dropoff's). Every
other variant is compared with the step itself (variant A, the control) by the two-proportion test.

Holdout: a flow's enrollments for dropoffs detected in the period, split into treated (messaged) and
held out (never messaged); each group's recovery rate is its recovered dropoffs over its enrollments.
Incremental revenue is the treated group's revenue less what it would have made at the held-out
group's revenue per contact.
"""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from reengage.models import Dropoff, Enrollment, Flow
from reengage.platform import db
from reengage.results import metrics, stats, variants
from reengage.results.metrics import scope

CONTROL = "A"


def ab_tests(account_id: int, filters: dict[str, Any], window: timedelta) -> list[dict[str, Any]]:
    """One entry per flow step with variants: each variant's figures and its comparison with the control."""
    steps, names = variants.counted(account_id, filters, metrics.dimensions(account_id, filters),
                                    scope(account_id, filters), window, metrics.ROLLUPS)
    return [_ab_test(flow, names[flow], phase, step, counted) for (flow, phase, step), counted in sorted(
        steps.items())]


def _ab_test(flow: str, name: str, phase: int, step: str, counted: dict[str, dict[str, Any]]) -> dict[str, Any]:
    control = counted.get(CONTROL, variants.unsent(CONTROL))
    rows = []
    for key in sorted(counted, key=lambda v: (v != CONTROL, v)):
        figures = counted[key]
        revenues = sorted(figures["revenue"].items(), key=lambda item: item[0] or "")
        row = {**figures, "revenue": float(sum(total for _, total in revenues)) if len(revenues) <= 1 else None,
               "revenue_by_currency": [{"currency": currency, "revenue": float(total)} for currency, total in revenues],
               "click_rate": _rate(figures["clicked"], figures["sent"]),
               "recovery_rate": _rate(figures["recovered"], figures["sent"]), "recovery_test": None,
               "click_test": None}
        if key != CONTROL:
            row["recovery_test"] = _test(stats.compare(control["recovered"], control["sent"], figures["recovered"],
                                                       figures["sent"], (CONTROL, key)))
            row["click_test"] = _test(stats.compare(control["clicked"], control["sent"], figures["clicked"],
                                                    figures["sent"], (CONTROL, key)))
        rows.append(row)
    tested = [row["recovery_test"] for row in rows if row["recovery_test"] and row["recovery_test"]["p_value"]
              is not None]
    decided = min(tested, key=lambda t: t["p_value"], default=None)
    verdict = decided["verdict"] if decided else "no difference yet"
    return {"flow": flow, "flow_name": name, "phase": phase, "step": step, "control": CONTROL, "verdict": verdict,
            "variants": rows}


def _test(compared: stats.Comparison) -> dict[str, Any]:
    return {"z": compared.z, "p_value": compared.p_value, "verdict": compared.verdict}


def holdout(account_id: int, filters: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per flow with enrollments in the period: treated against held out, with lift and its interval."""
    where = scope(account_id, filters)
    if "flow" in filters:
        where.append(Flow.key == filters["flow"])
    groups: dict[tuple, dict[bool, tuple[int, int, Decimal]]] = defaultdict(dict)
    for flow, name, percent, held, count, recovered, revenue in db.session().execute(
            select(Flow.key, Flow.name, Flow.holdout_percent, Enrollment.holdout, func.count(),
                   func.count(Dropoff.recovered_at), func.sum(Dropoff.revenue))
            .select_from(Enrollment).join(Dropoff, Dropoff.id == Enrollment.dropoff_id)
            .join(Flow, Flow.id == Enrollment.flow_id).where(*where)
            .group_by(Flow.key, Flow.name, Flow.holdout_percent, Enrollment.holdout)):
        groups[(flow, name, percent)][bool(held)] = (count, recovered, Decimal(str(revenue or 0)))
    return [_lift(flow, name, percent, split) for (flow, name, percent), split in sorted(groups.items())]


def _lift(flow: str, name: str, percent: int, split: dict[bool, tuple[int, int, Decimal]]) -> dict[str, Any]:
    treated, treated_recovered, treated_revenue = split.get(False, (0, 0, Decimal(0)))
    held, held_recovered, held_revenue = split.get(True, (0, 0, Decimal(0)))
    lifted = stats.lift(treated_recovered, treated, held_recovered, held)
    compared = stats.compare(held_recovered, held, treated_recovered, treated, ("held out", "treated"))
    incremental = treated_revenue - held_revenue * treated / held if held else None
    return {
        "flow": flow, "flow_name": name, "holdout_percent": percent,
        "treated": {"enrolled": treated, "recovered": treated_recovered, "recovery_rate": lifted.treated_rate,
                    "revenue": float(treated_revenue)},
        "held_out": {"enrolled": held, "recovered": held_recovered, "recovery_rate": lifted.held_out_rate,
                     "revenue": float(held_revenue)},
        "lift": {"absolute": lifted.absolute, "relative": lifted.relative, "low": lifted.low, "high": lifted.high,
                 "confidence": 0.95},
        "p_value": compared.p_value, "verdict": compared.verdict,
        "incremental_revenue": None if incremental is None else float(round(incremental, 2)),
    }


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None
