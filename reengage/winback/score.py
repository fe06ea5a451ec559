"""The readiness score of a lost deal: points for each kind of signal since the loss, and the priority they make."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Each kind of signal, its points and label; a kind counts once however many of its signals there are.
SIGNALS: dict[str, tuple[int, str]] = {
    "funding": (2, "Company growth or funding"),
    "decision_maker_change": (1, "Decision-maker change"),
    "product_update": (2, "Product update closing the gap"),
    "competitor_trouble": (1, "Competitor trouble or dissatisfaction"),
    "budget_cycle": (1, "Budget cycle aligned"),
    "relationship_warmth": (1, "Relationship still warm"),
}
HIGH, MEDIUM = 4, 2
MAXIMUM = sum(points for points, _ in SIGNALS.values())


@dataclass(frozen=True)
class Score:
    points: int
    priority: str
    reasons: list[dict]


def priority(points: int) -> str:
    """4 points or more: high; 2 or 3: medium; below 2: low."""
    return "high" if points >= HIGH else "medium" if points >= MEDIUM else "low"


def score(signals: Iterable) -> Score:
    """The score of these signals (objects with `kind`, `summary`, `occurred_at`), with one reason per kind counted."""
    first: dict[str, Any] = {}
    for signal in sorted(signals, key=lambda s: s.occurred_at):
        first.setdefault(signal.kind, signal)
    reasons = [{"signal": kind, "label": label, "points": points, "summary": first[kind].summary}
               for kind, (points, label) in SIGNALS.items() if kind in first]
    points = sum(reason["points"] for reason in reasons)
    return Score(points, priority(points), reasons)
