"""Product updates meet lost deals: an update closes a deal's gap when one of its tags is a gap of the deal.

A deal's gaps are the tags it was given, and any tag whose words appear in its loss reason or notes
(`real-time-analytics` matches "missing real-time analytics"). Only updates released after the loss count.
"""

import re

from sqlalchemy import select

from reengage.models import Deal, ProductUpdate
from reengage.platform import db
from reengage.winback import analysis, deals

OPEN = ("lost", "contacted", "replied")


def closes(update: ProductUpdate, deal: Deal) -> bool:
    """Whether `update` closes a gap of `deal`."""
    tagged = {analysis.normalise(tag) for tag in deal.gaps or ()}
    text = analysis.normalise(f"{deal.loss_reason or ''} {deal.notes or ''}")
    for tag in update.gaps or ():
        words = analysis.normalise(tag)
        if words in tagged or re.search(r"\b" + re.escape(words) + r"\b", text):
            return True
    return False


def match_update(update: ProductUpdate) -> int:
    """Record the update as a signal on every deal lost before it whose gap it closes; answer how many."""
    lost = db.session().scalars(select(Deal).where(Deal.account_id == update.account_id,
                                                   Deal.lost_at <= update.released_at, Deal.status.in_(OPEN)))
    return sum(_signal(deal, update) for deal in list(lost) if closes(update, deal))


def match_deal(deal: Deal) -> None:
    """Record as signals the account's updates released after the deal's loss that close its gap.

    The caller assesses the deal once afterwards, however many updates matched.
    """
    released = db.session().scalars(select(ProductUpdate).where(ProductUpdate.account_id == deal.account_id,
                                                                ProductUpdate.released_at >= deal.lost_at))
    for update in list(released):
        if closes(update, deal):
            _signal(deal, update, reassess=False)


def _signal(deal: Deal, update: ProductUpdate, reassess: bool = True) -> bool:
    summary = f"{update.name} released" + (f": {update.summary}" if update.summary else "")
    return deals.add_signal(deal, "product_update", summary, update.released_at, "product_update",
                            f"product-update-{update.id}", update.id, reassess=reassess)
