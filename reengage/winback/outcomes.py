"""A win-back's funnel: contacted, replied, meeting, opportunity, won; and attempts that failed.

Each stage implies the ones before it (a meeting was a reply; a win was an opportunity), so the
seed's rates (replies per contacted deal, meetings per reply, ...) always divide like for like.
"""

from datetime import datetime

from reengage.models import Deal

# Outcome types, in funnel order, with the deal column each one stamps.
STAGES = {"contacted": "contacted_at", "replied": "replied_at", "meeting": "meeting_at",
          "opportunity": "opportunity_at", "won": "won_at"}
# Attempts that got nowhere: they count toward a strategy review.
FAILED = ("no_response", "declined")
TYPES = (*STAGES, *FAILED)


def apply(deal: Deal, kind: str, at: datetime) -> None:
    """Move the deal along for an outcome of `kind` at `at`."""
    if kind in FAILED:
        deal.failed_attempts += 1
        kind = "contacted"  # a failed attempt was still an attempt
    order = list(STAGES)
    reached = order.index(kind)
    for stage in order[:reached + 1]:
        column = STAGES[stage]
        if getattr(deal, column) is None or getattr(deal, column) > at:
            setattr(deal, column, at)
    if deal.status not in STAGES or order.index(deal.status) < reached:
        deal.status = kind
