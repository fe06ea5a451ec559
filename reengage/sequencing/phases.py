"""The five phases of every flow and the days after the dropoff that each covers."""

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Phase:
    """Phase `number`: its steps go out from `start` up to (not including) `end` after enrollment."""

    number: int
    name: str
    purpose: str
    start: timedelta
    end: timedelta


PHASES: tuple[Phase, ...] = (
    Phase(1, "Immediate response", "Completion reminder, obstacle survey, direct support offer.",
          timedelta(days=0), timedelta(days=3)),
    Phase(2, "Value-first nurture", "Education, social proof, success stories, a free bonus.",
          timedelta(days=3), timedelta(days=15)),
    Phase(3, "Objection handling", "FAQ, risk reversal, payment plan or discount, a request for feedback.",
          timedelta(days=15), timedelta(days=31)),
    Phase(4, "Last chance", "A limited-time offer, alternatives, final value.",
          timedelta(days=31), timedelta(days=60)),
    Phase(5, "Long-term nurture", "Quarterly check-ins, insights, new products, referrals.",
          timedelta(days=60), timedelta(days=366)),
)
BY_NUMBER = {phase.number: phase for phase in PHASES}


def window(phase: Phase) -> str:
    """The phase's days as people read them: '0-2 days', '60+ days'."""
    last = phase.end.days - 1
    return f"{phase.start.days}+ days" if phase.number == len(PHASES) else f"{phase.start.days}-{last} days"
