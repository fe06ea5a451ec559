"""When to try again: immediate (0-3 months), medium (3-6) or long (6-12), from the loss reason and the signals.

A change that removes the reason for the loss (the gap closed, a new decision-maker, a new budget
cycle for a price loss) makes it immediate, counted from that change; otherwise the window is
counted from the loss, by its category.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from isodate import Duration

WINDOWS = {"immediate": (0, 3), "medium": (3, 6), "long": (6, 12)}
MEDIUM_CATEGORIES = {"timing": "a timing loss: priorities move within months",
                     "competition": "lost to a competitor: give them time to under-deliver",
                     "technical_fit": "a technical fit loss: requirements evolve"}


@dataclass(frozen=True)
class Window:
    timing: str
    reason: str
    start: datetime
    end: datetime


def window(category: str | None, signals: Iterable, lost_at: datetime) -> Window:
    """The timing and window of a deal lost at `lost_at` in `category` with these signals."""
    signals = sorted(signals, key=lambda s: s.occurred_at)
    openers = [(s, why) for s in signals for kind, why in (
        ("product_update", "a product update closed the gap"),
        ("decision_maker_change", "a new decision-maker"),
        ("budget_cycle", "a new budget cycle after a price loss"),
    ) if s.kind == kind and (kind != "budget_cycle" or category == "price")]
    if openers:
        signal, why = openers[0]
        return _make("immediate", why, max(signal.occurred_at, lost_at))
    if category in MEDIUM_CATEGORIES:
        return _make("medium", MEDIUM_CATEGORIES[category], lost_at)
    if any(s.kind == "competitor_trouble" for s in signals):
        return _make("medium", "the competitor shows trouble", lost_at)
    return _make("long", "nothing has changed the reason for the loss yet", lost_at)


def _make(timing: str, reason: str, anchor: datetime) -> Window:
    start, end = WINDOWS[timing]
    return Window(timing, reason, anchor + Duration(months=start), anchor + Duration(months=end))
