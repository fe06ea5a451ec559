"""Events that feed win-backs (an event processor): lost deals, signals, outcomes, and warmth from engagement.

- `deal.closed_lost` records the deal (properties: `deal_id`, `dealname`, `amount`, `arr`, `loss_reason` or
  `closed_lost_reason`, `competitor`, `company`, `owner`, `closedate`, ...); the event's contact is its contact.
- `deal.signal` (`kind`, `summary`, optional `deal_id`) and `deal.outcome` (`outcome`, optional `deal_id`) record a
  signal or an outcome on that deal, else on every lost deal of the contact.
- `deal.closed_won` and `deal.reopened` with a known `deal_id` are a win and a new opportunity.
- Once a deal's contact was contacted, their replies and booked meetings are its outcomes; any engagement of a
  deal's contact after the loss is a warm relationship.
"""

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Row, select

from reengage.models import Deal, DealContact
from reengage.models.event import ENGAGEMENT_TYPES
from reengage.platform import db
from reengage.platform.fields import Money
from reengage.winback import analysis, deals, outcomes, score

log = logging.getLogger(__name__)
NAMED_OUTCOMES = {"deal.closed_won": "won", "deal.reopened": "opportunity"}
CONTACT_OUTCOMES = {"email.replied": "replied", "sms.replied": "replied", "meeting.booked": "meeting",
                    "call_booked": "meeting"}
OPEN = ("lost", "contacted", "replied", "meeting", "opportunity")
# Event properties that become deal fields, in order of preference.
PROPERTIES = {"name": ("dealname", "name", "deal_name"), "company": ("company", "company_name"),
              "industry": ("industry",), "owner": ("owner", "owner_name"), "owner_id": ("hubspot_owner_id",),
              "loss_reason": ("loss_reason", "closed_lost_reason", "reason"), "competitor": ("competitor",),
              "notes": ("notes", "description"), "category": ("category", "loss_category")}


def read(props: dict[str, Any], name: str, first: str | None = None) -> str | None:
    """The deal field `name` from an event's properties: the `first` property if given and set, else the documented."""
    keys = (first, *PROPERTIES[name]) if first else PROPERTIES[name]
    value = next((props[key] for key in keys if props.get(key) not in (None, "")), None)
    return None if value is None or isinstance(value, dict | list) else str(value)[:1000]


def analysis_of(props: dict[str, Any], reason_key: str | None = None) -> analysis.Analysis:
    """The loss analysis of a `deal.closed_lost` event's properties, as its deal gets it (no correction yet)."""
    stated = read(props, "category")
    return analysis.analyse(read(props, "loss_reason", reason_key), read(props, "notes"), read(props, "competitor"),
                            stated if stated in analysis.CATEGORIES else None)


def on_events(claimed: Sequence[Row]) -> None:
    """Apply the deal events among `claimed` and what deal contacts did (one query when any could matter)."""
    by_contact: list[Row] = []
    for event in claimed:
        if event.type == "deal.closed_lost":
            _lost(event)
        elif event.type in ("deal.signal", "deal.outcome") or event.type in NAMED_OUTCOMES:
            _on_deal(event)
        elif event.type in ENGAGEMENT_TYPES or event.type in CONTACT_OUTCOMES:
            by_contact.append(event)
    if by_contact:
        _contact_events(by_contact)


def _lost(event: Row) -> None:
    props = event.properties or {}
    data: dict[str, Any] = {"external_id": str(props.get("deal_id") or f"event-{event.id}")[:255]}
    for name in PROPERTIES:
        value = read(props, name)
        if value is not None:
            data[name] = value
    if data.get("category") not in analysis.CATEGORIES:
        data.pop("category", None)
    amount = number(props.get("amount")) or (Decimal(str(event.value)) if event.value is not None else None)
    if amount is not None:
        data["amount"] = amount
    if number(props.get("arr")) is not None:
        data["arr"] = number(props.get("arr"))
    if props.get("currency") or event.currency:
        data["currency"] = str(props.get("currency") or event.currency)[:3].upper()
    data["lost_at"] = parse_time(props.get("closedate")) or event.occurred_at
    data["contact_ids"] = [event.contact_id]
    deals.upsert(event.account_id, data, "event", db.utcnow())


def _on_deal(event: Row) -> None:
    props = event.properties or {}
    unknown = (event.type == "deal.signal" and props.get("kind") not in score.SIGNALS) or (
        event.type == "deal.outcome" and props.get("outcome") not in outcomes.TYPES)
    if unknown:  # the event stays stored and listed; it just says nothing a win-back can use
        log.warning("event %d (%s) names no known %s: %r", event.id, event.type,
                    "signal kind" if event.type == "deal.signal" else "outcome",
                    props.get("kind" if event.type == "deal.signal" else "outcome"))
        return
    if props.get("deal_id") not in (None, ""):
        targets = list(db.session().scalars(select(Deal).where(
            Deal.account_id == event.account_id, Deal.external_id == str(props["deal_id"]))))
    elif event.type in NAMED_OUTCOMES:
        return  # a won or reopened deal we never saw lost is none of ours
    else:
        targets = _deals_of([event.contact_id]).get(event.contact_id, [])
    for deal in targets:
        if event.occurred_at < deal.lost_at:
            continue  # as the API refuses: nothing before the loss belongs to its win-back
        if event.type == "deal.signal":
            deals.add_signal(deal, props["kind"], str(props.get("summary") or score.SIGNALS[props["kind"]][1]),
                             event.occurred_at, "event", f"event-{event.id}")
        elif event.type == "deal.outcome":
            note = props.get("note")
            deals.add_outcome(deal, props["outcome"], event.occurred_at, "event", f"event-{event.id}",
                              str(note)[:500] if note not in (None, "") else None)
        elif event.type in NAMED_OUTCOMES:
            deals.add_outcome(deal, NAMED_OUTCOMES[event.type], event.occurred_at, "event", f"event-{event.id}")


def _contact_events(events: list[Row]) -> None:
    found = _deals_of(list({event.contact_id for event in events}))
    for event in events:
        for deal in found.get(event.contact_id, []):
            if event.occurred_at < deal.lost_at:
                continue
            if event.type in ENGAGEMENT_TYPES:
                deals.add_signal(deal, "relationship_warmth", f"Engaged after the loss ({event.type})",
                                 event.occurred_at, "event", "relationship-warmth")
            outcome = CONTACT_OUTCOMES.get(event.type)
            if outcome and deal.contacted_at is not None and event.occurred_at >= deal.contacted_at:
                deals.add_outcome(deal, outcome, event.occurred_at, "event", f"event-{event.id}")


def _deals_of(contact_ids: list[int]) -> dict[int, list[Deal]]:
    """The open win-backs of these contacts, by contact."""
    rows = db.session().execute(select(DealContact.contact_id, Deal).join(Deal, Deal.id == DealContact.deal_id)
                                .where(DealContact.contact_id.in_(contact_ids), Deal.status.in_(OPEN)))
    found: dict[int, list[Deal]] = {}
    for contact_id, deal in rows:
        found.setdefault(contact_id, []).append(deal)
    return found


def number(value: Any) -> Decimal | None:
    """A money amount from a CRM's text or number, else None."""
    if value in (None, "") or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() and 0 <= number <= Money.LIMIT else None


def parse_time(value: Any) -> datetime | None:
    """An ISO time or epoch milliseconds (HubSpot's two forms), else None."""
    if value in (None, ""):
        return None
    text = str(value)
    try:
        if text.isdigit():
            return datetime.fromtimestamp(int(text) / 1000, UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
