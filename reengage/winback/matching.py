"""Product updates meet lost deals: an update closes a deal's gap when one of its tags is a gap of the deal.

A deal's gaps are the tags it was given, and any tag whose words appear in its loss reason or notes
(`real-time-analytics` matches "missing real-time analytics"). Only updates released after the loss count.
"""

import re
from typing import Any

from sqlalchemy import select

from reengage.models import Deal, ProductUpdate
from reengage.platform import db
from reengage.winback import analysis

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


def deals_closed_by(update: ProductUpdate) -> list[Deal]:
    """The open deals lost before `update` whose gap it closes."""
    lost = db.session().scalars(select(Deal).where(Deal.account_id == update.account_id,
                                                   Deal.lost_at <= update.released_at, Deal.status.in_(OPEN)))
    return [deal for deal in list(lost) if closes(update, deal)]


def updates_closing(deal: Deal) -> list[ProductUpdate]:
    """The account's updates released after the deal's loss that close its gap."""
    released = db.session().scalars(select(ProductUpdate).where(ProductUpdate.account_id == deal.account_id,
                                                                ProductUpdate.released_at >= deal.lost_at))
    return [update for update in list(released) if closes(update, deal)]


def signal(update: ProductUpdate) -> dict[str, Any]:
    """The signal `update` gives a deal whose gap it closes, as `deals.add_signal` takes it."""
    summary = f"{update.name} released" + (f": {update.summary}" if update.summary else "")
    return {"kind": "product_update", "summary": summary, "occurred_at": update.released_at,
            "source": "product_update", "key": f"product-update-{update.id}", "product_update_id": update.id}
