"""Lost deals: recorded (upserted by external id), assessed, given signals and outcomes, made ready.

`assess` is the one place a deal's analysis, score, window, recommendation, escalations and draft
are worked out; everything that changes what it reads (the deal, a signal, an outcome, a product
update, a window opening) calls it in the same transaction, so a deal is never shown stale.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from reengage import connections, hooks
from reengage.intake.contacts import ContactResolver
from reengage.links.provider import of_kind
from reengage.models import Contact, Deal, DealContact, DealOutcome, DealSignal, Escalation, ProductUpdate
from reengage.models.deal import TO_OPEN
from reengage.platform import db
from reengage.settings import winback_of
from reengage.winback import analysis, draft, matching, outcomes, score, strategy, window

# Deal fields a caller sets directly (the rest is worked out).
FIELDS = ("name", "company", "industry", "owner", "owner_id", "amount", "arr", "currency", "lost_at", "loss_reason",
          "competitor", "notes", "stages", "gaps")


def upsert(account_id: int, data: dict[str, Any], source: str, at: datetime) -> tuple[Deal, bool]:
    """Create or update the deal `data["external_id"]` (given fields replace stored ones) and assess it."""
    db_session = db.session()
    deal = db_session.scalar(select(Deal).where(Deal.account_id == account_id,
                                                Deal.external_id == data["external_id"]))
    created = deal is None
    if deal is None:
        deal = Deal(account_id=account_id, external_id=data["external_id"], source=source, stages=[], gaps=[],
                    secondary=[], category_evidence=[], score_reasons=[], recommendation={}, draft={}, created_at=at,
                    name=data.get("name") or data["external_id"], lost_at=data.get("lost_at") or at,
                    window_start=at, window_end=at)  # worked out by assess below
        db_session.add(deal)
    for name in FIELDS:
        if name in data and (data[name] is not None or name not in ("name", "lost_at")):
            setattr(deal, name, _clipped(name, data[name]))
    if "category" in data:
        deal.stated_category = data["category"]
    db_session.flush()
    named = _resolve(account_id, data.get("contacts") or [])
    if named or data.get("contact_ids"):
        # Contacts the caller names lead; an event's contact leads only a deal without one.
        _link(deal, [*named, *data.get("contact_ids", [])], lead=bool(named))
    for update in matching.updates_closing(deal):
        add_signal(deal, **matching.signal(update), reassess=False)  # assessed once below, however many matched
    assess(deal, at)
    return deal, created


def _clipped(name: str, value: Any) -> Any:
    """Text cut to its column's length: a CRM's long deal name must not fail the whole event batch."""
    length = getattr(Deal.__table__.c[name].type, "length", None)
    return value[:length] if isinstance(value, str) and length else value


def _resolve(account_id: int, inputs: list[dict[str, Any]]) -> list[int]:
    """The ids of the contacts these inputs name, created or updated."""
    if not inputs:
        return []
    resolver = ContactResolver(db.session())
    resolver.preload([(account_id, data) for data in inputs])
    found = [resolver.upsert(account_id, data, f"contacts.{i}") for i, data in enumerate(inputs)]
    db.session().flush()
    return [contact.id for contact in found]


def _link(deal: Deal, contact_ids: list[int], lead: bool) -> None:
    """Link the contacts to the deal; the first becomes its primary contact if `lead` or it has none."""
    db_session = db.session()
    if deal.contact_id is None or lead:
        deal.contact_id = contact_ids[0]
    linked = set(db_session.scalars(select(DealContact.contact_id).where(DealContact.deal_id == deal.id)))
    for contact_id in dict.fromkeys(contact_ids):
        if contact_id not in linked:
            db_session.add(DealContact(deal_id=deal.id, contact_id=contact_id))
    db_session.flush()


def correct(deal: Deal, category: str | None, note: str | None, at: datetime) -> None:
    """The account's own category for the loss (None: back to the analysis); kept through later updates."""
    deal.correction = {"category": category, "note": note, "at": at.isoformat()} if category else None
    assess(deal, at)


def add_signal(deal: Deal, kind: str, summary: str, occurred_at: datetime, source: str, key: str,
               product_update_id: int | None = None, at: datetime | None = None, reassess: bool = True) -> bool:
    """Record a signal once per `key` and reassess the deal (unless the caller will); answer whether it was new."""
    added = _insert_once(DealSignal, {
        "account_id": deal.account_id, "deal_id": deal.id, "kind": kind, "summary": summary[:500],
        "occurred_at": occurred_at, "source": source, "key": key[:255], "product_update_id": product_update_id})
    if added and reassess:
        assess(deal, at or db.utcnow())
    return added


def match_update(update: ProductUpdate) -> int:
    """Record the update as a signal on every open deal lost before it whose gap it closes; answer how many."""
    return sum(add_signal(deal, **matching.signal(update)) for deal in matching.deals_closed_by(update))


def add_outcome(deal: Deal, kind: str, occurred_at: datetime, source: str, key: str, note: str | None = None,
                at: datetime | None = None) -> bool:
    """Record an outcome once per `key`, move the deal along its funnel, reassess; answer whether it was new."""
    added = _insert_once(DealOutcome, {"account_id": deal.account_id, "deal_id": deal.id, "type": kind,
                                       "occurred_at": occurred_at, "source": source, "key": key[:255], "note": note})
    if added:
        outcomes.apply(deal, kind, occurred_at)
        assess(deal, at or db.utcnow())
    return added


def _insert_once(model, row: dict[str, Any]) -> bool:
    """Insert the row unless its (deal, key) is already there; answer whether it was inserted."""
    statement = db.insert_new(model.__table__).on_conflict_do_nothing().returning(model.id)
    return db.session().execute(statement, [{**row, "created_at": db.utcnow()}]).first() is not None


def signals_of(deal: Deal) -> list[DealSignal]:
    """The deal's signals since its loss, oldest first."""
    return list(db.session().scalars(select(DealSignal).where(
        DealSignal.deal_id == deal.id, DealSignal.occurred_at >= deal.lost_at).order_by(DealSignal.occurred_at,
                                                                                        DealSignal.id)))


def assess(deal: Deal, at: datetime) -> None:
    """Work out everything about the deal again from what is stored; raise escalations and readiness once."""
    db_session = db.session()
    settings, account_name = winback_of(deal.account_id)
    found = analysis.analyse(deal.loss_reason, deal.notes, deal.competitor, deal.stated_category,
                             (deal.correction or {}).get("category"))
    deal.category, deal.category_source, deal.confidence, deal.secondary, deal.category_evidence = (
        found.category, found.source, found.confidence, found.secondary, found.evidence)
    signals = signals_of(deal)
    scored = score.score(signals)
    deal.score, deal.priority, deal.score_reasons = scored.points, scored.priority, scored.reasons
    timed = window.window(deal.category, signals, deal.lost_at)
    deal.timing, deal.timing_reason, deal.window_start, deal.window_end = (
        timed.timing, timed.reason, timed.start, timed.end)
    update_ids = [s.product_update_id for s in signals if s.product_update_id]
    updates = list(db_session.scalars(select(ProductUpdate).where(ProductUpdate.id.in_(update_ids))
                                      .order_by(ProductUpdate.released_at))) if update_ids else []
    kinds = {s.kind: s.summary for s in signals}
    arr = strategy.arr_of(deal.arr, deal.amount)
    raised = strategy.escalations(arr, deal.currency, kinds, deal.failed_attempts, settings, deal.competitor)
    recommended = strategy.recommend(deal.category, set(kinds), "executive" in raised, deal.competitor,
                                     [u.name for u in updates])
    deal.recommendation = recommended.shown(deal.owner)
    contact = db_session.get(Contact, deal.contact_id) if deal.contact_id else None
    written = draft.write(draft.context(deal, contact, signals, updates, settings["customer_stories"],
                                        deal.owner or account_name))
    deal.draft = {**written, "to": contact.email if contact else None, "channel": recommended.channel,
                  "messenger": recommended.messenger, "written_at": at.isoformat()}
    deal.updated_at = at
    db_session.flush()
    _raise(deal, raised, at)
    if deal.ready_at is None and deal.priority in ("high", "medium") and deal.window_start <= at:
        _ready(deal, at)


def _raise(deal: Deal, raised: dict[str, str], at: datetime) -> None:
    if not raised:
        return
    rows = [{"account_id": deal.account_id, "deal_id": deal.id, "kind": kind, "reason": reason[:500],
             "raised_at": at} for kind, reason in raised.items()]
    new = list(db.session().scalars(db.insert_new(Escalation.__table__).on_conflict_do_nothing()
                                    .returning(Escalation.id), rows))
    if new:
        hooks.publish("escalation.raised", {deal.account_id: new})


def _ready(deal: Deal, at: datetime) -> None:
    """The window is open and the priority high or medium: once, tell subscribers and hand the draft to the CRM."""
    deal.ready_at = at
    if deal.status != "lost":
        return  # the win-back is already under way
    linked = any(connections.find(deal.account_id, key) is not None for key in of_kind("crm"))
    deal.push_status = "pending" if linked else "skipped"
    deal.push_note = None if linked else "No CRM is connected"
    db.session().flush()
    hooks.publish("winback.ready", {deal.account_id: [deal.id]})


def open_due(at: datetime, limit: int) -> int:
    """Assess deals whose window has opened and that are not ready yet (high or medium priority)."""
    with db.transaction() as db_session:
        # The partial index's predicate, word for word, so PostgreSQL reads only deals waiting to open.
        due = list(db_session.scalars(select(Deal).where(TO_OPEN, Deal.window_start <= at).order_by(Deal.window_start)
                                      .limit(limit).with_for_update(skip_locked=True)))
        for deal in due:
            assess(deal, at)
    return len(due)


def shown(found: list[Deal]) -> list[dict[str, Any]]:
    """The deals with their contacts, signals, outcomes and escalations (four queries for any number)."""
    ids = [deal.id for deal in found]
    related: dict[str, dict[int, list]] = {name: {deal_id: [] for deal_id in ids} for name in (
        "contact_ids", "signals", "outcomes", "escalations")}
    if ids:
        db_session = db.session()
        for deal_id, contact_id in db_session.execute(select(DealContact.deal_id, DealContact.contact_id).where(
                DealContact.deal_id.in_(ids)).order_by(DealContact.contact_id)):
            related["contact_ids"][deal_id].append(contact_id)
        shown_with: tuple[tuple[str, type[DealSignal | DealOutcome | Escalation], InstrumentedAttribute[datetime]], ...]
        shown_with = (("signals", DealSignal, DealSignal.occurred_at),
                      ("outcomes", DealOutcome, DealOutcome.occurred_at),
                      ("escalations", Escalation, Escalation.raised_at))
        for name, model, order in shown_with:
            for deal_id, row in db_session.execute(
                    select(model.deal_id, model).where(model.deal_id.in_(ids)).order_by(order, model.id)):
                related[name][deal_id].append(row)
    return [{**db.columns(deal), **{name: rows[deal.id] for name, rows in related.items()}} for deal in found]
