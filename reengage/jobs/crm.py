"""CRM work done by jobs, through whichever CRM an account connected (reengage.links.crm.CRM): notes and
properties for sent messages, workflow callbacks, closed-lost deals, win-back tasks and outcomes.

Each job is safe to run twice: a noted message has `noted_at`, a completed callback
`callback_completed_at`, a handled win-back draft its `push_status`, and deals are recorded as events
keyed by deal and close date.
"""

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar, cast

from flask import Flask
from sqlalchemy import and_, or_, select, update

from connectors.errors import ConnectorError
from reengage import connections
from reengage.channels import Outgoing
from reengage.intake import ingest
from reengage.jobs import job
from reengage.links.crm import CRM, ClosedDeal, LostDeal, recovered
from reengage.links.provider import of_kind, registered
from reengage.models import Connection, Contact, ContactIdentity, Deal, Dropoff, Enrollment, Flow, Message
from reengage.models.deal import TO_PUSH
from reengage.platform import db, queue
from reengage.sending import dispatch
from reengage.winback import deals as winback_deals
from reengage.winback import events as winback_events

log = logging.getLogger(__name__)
Row = TypeVar("Row")
# Message states after a send (the note is written once it went).
WENT = ("sent", "delivered", "opened", "clicked")
# How often closed-lost deals are looked for, per connection.
DEAL_SYNC_EVERY = timedelta(minutes=5)
# Enrollments end inside transactions that commit a moment later: the sweep stays this far behind.
OUTCOME_LAG = timedelta(seconds=30)


def init_app(app: Flask) -> None:
    """Have messages that went noted in their account's CRM."""
    dispatch.after_send(app, enqueue_notes)


def crm_accounts(account_ids: set[int]) -> set[int]:
    """Which of these accounts have a CRM connected."""
    if not account_ids:
        return set()
    return set(db.session().scalars(select(Connection.account_id).where(
        Connection.provider.in_(of_kind("crm")), Connection.account_id.in_(account_ids))))


def enqueue_notes(went: list[Outgoing]) -> None:
    """Hand the messages that went, of accounts with a CRM connected, to the job that notes them there."""
    accounts = crm_accounts({outgoing.account_id for outgoing in went})
    ids = [outgoing.id for outgoing in went if outgoing.account_id in accounts]
    if ids:
        try:
            queue.enqueue(note_sent, ids)
        except Exception:  # the messages went; a missing note must not undo that
            log.exception("could not enqueue CRM notes for %d messages", len(ids))


def each_row(rows: Iterable[Row], account_of: Callable[[Row], int],
             work: Callable[[CRM, connections.Linked, Row], Any],
             record: Callable[[Row, connections.Linked | None, Any], bool]) -> int:
    """Do `work` for each row on its account's CRM and `record` what came of it; answer how many rows count.

    `record` gets the work's answer, the ConnectorError the CRM refused the row with for good, or None
    when the account has no CRM. A passing error (rate limit, outage) leaves its row unrecorded and is
    raised once every other row had its turn, so the queue retries the job and only those rows are left.
    """
    links: dict[int, connections.Linked | None] = {}
    counted, passing = 0, None
    for row in rows:
        account_id = account_of(row)
        if account_id not in links:
            links[account_id] = connections.linked_kind(account_id, "crm")
        link, result = links[account_id], None
        if link is not None:
            try:
                result = connections.call(link, partial(work, connections.client(link), link, row))
            except ConnectorError as error:
                if error.kind != "permanent":
                    passing = error if error.retryable else passing
                    continue
                result = error
        counted += record(row, link, result)
    if passing is not None:
        raise passing
    return counted


def _name(link: connections.Linked) -> str:
    return registered()[link.provider].name


@job(merge_lists=True)
def note_sent(message_ids: list[int]) -> int:
    """Note each sent message on its CRM contact and write the contact's re-engagement properties."""
    db_session = db.session()
    rows = db_session.execute(
        select(Message, Contact, Flow.key, Dropoff.scenario)
        .join(Contact, Contact.id == Message.contact_id).join(Flow, Flow.id == Message.flow_id)
        .join(Enrollment, Enrollment.id == Message.enrollment_id)
        .outerjoin(Dropoff, Dropoff.id == Enrollment.dropoff_id)
        .where(Message.id.in_(message_ids), Message.noted_at.is_(None), Message.status.in_(WENT))
        .order_by(Message.id)).all()
    db_session.commit()
    return each_row(rows, lambda row: row[0].account_id, _note, _noted)


def _note(crm: CRM, link: connections.Linked, row: Any) -> None:
    message, contact, flow_key, scenario = row
    contact_id = crm.find_contact(contact.identity(link.provider), contact.email)
    if contact_id is None:
        raise ConnectorError("permanent", f"{_name(link)} has no contact with this email")
    sent_at = message.sent_at or db.utcnow()
    if message.channel != "hubspot_task":  # a task is its own record on the timeline
        subject = message.content.get("subject") or message.content.get("text", "")[:80]
        crm.add_note(contact_id, f"Reengage sent {message.channel} \u201c{subject}\u201d (flow {flow_key}, "
                                 f"phase {message.phase}).", sent_at)
    crm.update_contact(contact_id, {"status": "in_sequence", "phase": str(message.phase),
                                    "last_touch": str(int(sent_at.timestamp() * 1000)), "scenario": scenario or ""})


def _noted(row: Any, link: connections.Linked | None, result: Any) -> bool:
    message = row[0]
    if link is None:
        return False
    if isinstance(result, ConnectorError):
        log.warning("%s refused the note of message %d: %s", _name(link), message.id, result.message)
    with db.transaction() as session:
        session.execute(update(Message).where(Message.id == message.id).values(noted_at=db.utcnow()))
    return True


@job(merge_lists=True)
def complete_callbacks(enrollment_ids: list[int]) -> int:
    """Let workflows waiting on ended enrollments go on, with whether the contact was recovered."""
    db_session = db.session()
    ended = list(db_session.scalars(select(Enrollment).where(
        Enrollment.id.in_(enrollment_ids), Enrollment.callback_id.is_not(None),
        Enrollment.callback_completed_at.is_(None), Enrollment.status != "active")))
    db_session.commit()
    return each_row(ended, lambda enrollment: enrollment.account_id,
                    # only enrollments with a callback are read
                    lambda crm, _link, enrollment: crm.complete_workflow(cast(str, enrollment.callback_id), enrollment),
                    _completed)


def _completed(enrollment: Enrollment, link: connections.Linked | None, result: Any) -> bool:
    if link is None:
        log.warning("enrollment %d waits on a CRM callback but no CRM is connected", enrollment.id)
        return False
    if isinstance(result, ConnectorError):
        # The CRM no longer knows the callback (it expired): nothing will ever take it.
        log.warning("%s refused callback %s of enrollment %d: %s", _name(link), enrollment.callback_id,
                    enrollment.id, result.message)
    with db.transaction() as session:
        session.execute(update(Enrollment).where(Enrollment.id == enrollment.id).values(
            callback_completed_at=db.utcnow()))
    return True


@job
def sync_closed_lost(connection_id: int) -> int:
    """Record deals that moved to a closed-lost stage since the cursor; mark known lost deals won when they are."""
    db_session = db.session()
    connection = db_session.get(Connection, connection_id)
    if connection is None:
        return 0
    link = connections.linked(connection.account_id, connection.provider)
    db_session.commit()
    if link is None:
        return 0
    crm: CRM = connections.client(link)
    # The cursor: the newest change mark handled, and the deals handled at that very mark (a query asks for the
    # mark itself again, so that deals changed in the same instant as the last one are not lost).
    mark, seen = link.cursor.get("deals_modified_after"), set(link.cursor.get("deals_seen_at_mark") or ())
    recorded, after, fetched, since = 0, None, 0, mark
    while True:
        # One query pages with `after` from the mark it started at; a new query starts at the newest mark.
        deals, after = connections.call(link, partial(crm.closed_deals, since, after))
        fetched += len(deals)
        for deal in deals:
            if deal.modified is not None and deal.modified == mark and deal.id in seen:
                continue
            if deal.won:
                _won(link, deal)
            else:
                _record_lost(link, connections.call(link, partial(crm.lost_deal, deal.id)))
                recorded += 1
        mark, seen = _advanced(mark, seen, deals)
        _save_cursor(connection_id, {"deals_modified_after": mark, "deals_seen_at_mark": sorted(seen)})
        if after is not None and crm.search_cap and fetched + len(deals) > crm.search_cap:
            after, fetched, since = None, 0, mark  # the query can page no further: ask again from the newest mark
        elif after is None:
            break
    _save_cursor(connection_id, {"next_sync_at": (db.utcnow() + DEAL_SYNC_EVERY).isoformat()})
    return recorded


def _advanced(mark: str | None, seen: set[str], deals: list[ClosedDeal]) -> tuple[str | None, set[str]]:
    """The cursor past `deals` (oldest change first; the CRM's marks need not compare as strings)."""
    for deal in deals:
        if deal.modified is None:
            continue
        if deal.modified != mark:
            mark, seen = deal.modified, set()
        seen.add(deal.id)
    return mark, seen


def _save_cursor(connection_id: int, changes: dict[str, Any]) -> None:
    """Store `changes` in the connection's cursor at once: a sync cut off resumes after the last page it handled."""
    with db.transaction() as session:
        connection = session.get_one(Connection, connection_id)
        connection.cursor = {**(connection.cursor or {}), **changes}


def _record_lost(link: connections.Linked, lost: LostDeal) -> None:
    """Record the deal; and, when it has a contact, the `deal.closed_lost` event that starts its dropoff."""
    with db.transaction():
        winback_deals.upsert(link.account_id, {k: v for k, v in lost.deal.items() if v not in (None, [])},
                             link.provider, db.utcnow())
    if lost.contact is None:
        log.info("closed-lost deal %s has no contact in %s: recorded as a deal, no dropoff", lost.id, _name(link))
        return
    body = {"id": lost.key[:255], "type": "deal.closed_lost", "contact": lost.contact, "properties": lost.details,
            "source": link.provider}
    with ingest.arrival() as token:
        events, _ = ingest.parse(body)
        ingest.ingest(link.account_id, events, "", token)


def _won(link: connections.Linked, deal: ClosedDeal) -> None:
    """A deal we knew lost is won now: the win-back's last outcome."""
    with db.transaction() as session:
        known = session.scalar(select(Deal).where(Deal.account_id == link.account_id, Deal.external_id == deal.id))
        if known is not None and known.won_at is None:
            at = winback_events.parse_time(deal.closed_at) or db.utcnow()
            winback_deals.add_outcome(known, "won", max(at, known.lost_at), link.provider,
                                      f"{link.provider}-won-{deal.id}")


@job(merge_lists=True)
def push_winback_drafts(deal_ids: list[int]) -> int:
    """Give each ready deal's owner a CRM task holding the win-back draft, on the deal and its contact."""
    db_session = db.session()
    rows = db_session.execute(select(Deal, Contact).outerjoin(Contact, Contact.id == Deal.contact_id).where(
        Deal.id.in_(deal_ids), TO_PUSH).order_by(Deal.id)).all()
    db_session.commit()
    return each_row(rows, lambda row: row[0].account_id, _push, _pushed)


def _push(crm: CRM, link: connections.Linked, row: Any) -> str:
    deal, contact = row
    contact_id = crm.find_contact(contact.identity(link.provider), contact.email) if contact is not None else None
    deal_id = deal.external_id if deal.source == link.provider else None
    if contact_id is None and deal_id is None:
        raise ConnectorError("permanent", f"{_name(link)} has neither the deal nor its contact")
    recommendation = deal.recommendation
    body = (f"Win-back ready ({deal.priority} priority, score {deal.score}). Messenger: "
            f"{recommendation.get('messenger_label')}; channel: {recommendation.get('channel_label')}.\n\n"
            f"Subject: {deal.draft.get('subject')}\n\n{deal.draft.get('text')}")
    task_id = crm.create_task(contact_id, f"Win-back: {deal.name}", body, db.utcnow(), deal.owner_id, deal_id)
    if deal_id is not None:
        try:
            crm.update_deal(deal_id, {"status": "winback_ready", "priority": deal.priority, "score": str(deal.score),
                                      "window": f"{deal.window_start.date()} to {deal.window_end.date()}"})
        except ConnectorError as error:  # the task exists: trying again would make a second one
            log.warning("%s kept the task of deal %d but refused its fields: %s", _name(link), deal.id, error.message)
    return task_id


def _pushed(row: Any, link: connections.Linked | None, result: Any) -> bool:
    deal = row[0]
    if link is None:
        status, note = "skipped", "No CRM is connected"
    elif isinstance(result, ConnectorError):
        status, note = "failed", result.message
    else:
        status, note = "pushed", f"{_name(link)} task {result}"
    with db.transaction() as session:
        session.execute(update(Deal).where(Deal.id == deal.id, TO_PUSH).values(push_status=status,
                                                                              push_note=note[:300]))
    return status == "pushed"


def due_deal_syncs(at: datetime) -> list[int]:
    """CRM connections whose closed-lost sync is on and due."""
    due = []
    for connection in db.session().scalars(select(Connection).where(Connection.provider.in_(of_kind("crm")))):
        next_at = (connection.cursor or {}).get("next_sync_at")
        if (connection.settings or {}).get("sync_closed_lost") and connection.status != "broken" and (
                next_at is None or datetime.fromisoformat(next_at).astimezone(UTC) <= at):
            due.append(connection.id)
    db.session().commit()
    return due


def due_outcomes(at: datetime, limit: int) -> list[tuple[int, list[int], list]]:
    """Per CRM connection, enrollments ended since its cursor: (connection id, enrollment ids, new cursor).

    The cursor is (ended_at, id): one exit can end thousands of enrollments at the same moment.
    """
    found = []
    connections_query = select(Connection.id, Connection.account_id, Connection.cursor).where(
        Connection.provider.in_(of_kind("crm")), Connection.status != "broken")
    for connection_id, account_id, cursor in db.session().execute(connections_query).all():
        query = select(Enrollment.id, Enrollment.ended_at).where(
            Enrollment.account_id == account_id, Enrollment.ended_at.is_not(None),
            Enrollment.ended_at <= at - OUTCOME_LAG).order_by(Enrollment.ended_at, Enrollment.id).limit(limit)
        if (cursor or {}).get("ended_through"):
            moment, last_id = datetime.fromisoformat(cursor["ended_through"][0]), cursor["ended_through"][1]
            query = query.where(or_(Enrollment.ended_at > moment,
                                    and_(Enrollment.ended_at == moment, Enrollment.id > last_id)))
        rows = db.session().execute(query).all()
        if rows:
            found.append((connection_id, [row.id for row in rows], [rows[-1].ended_at.isoformat(), rows[-1].id]))
    db.session().commit()
    return found


@job
def write_outcomes(connection_id: int, enrollment_ids: list[int], through: list) -> int:
    """Write the status property of contacts whose enrollment ended (recovered, completed, exited)."""
    db_session = db.session()
    connection = db_session.get(Connection, connection_id)
    if connection is None:
        return 0
    link = connections.linked(connection.account_id, connection.provider)
    if link is None:
        return 0
    rows = db_session.execute(
        select(Enrollment, ContactIdentity.external_id).outerjoin(ContactIdentity, and_(
            ContactIdentity.contact_id == Enrollment.contact_id, ContactIdentity.provider == link.provider))
        .where(Enrollment.id.in_(enrollment_ids))).all()
    db_session.commit()
    crm: CRM = connections.client(link)
    written = 0
    for enrollment, external_id in rows if crm.writes("status") else ():
        if not external_id:
            continue
        status = "recovered" if recovered(enrollment) else enrollment.status
        try:
            connections.call(link, partial(crm.update_contact, external_id, {"status": status}))
            written += 1
        except ConnectorError as error:
            if error.kind != "permanent":
                raise  # the cursor stays: the queue (or the next sweep) tries these again
            log.warning("%s refused the status of enrollment %d: %s", _name(link), enrollment.id, error.message)
    with db.transaction() as session:
        stored = dict(session.get_one(Connection, connection_id).cursor or {})
        session.execute(update(Connection).where(Connection.id == connection_id).values(
            cursor={**stored, "ended_through": through}))
    return written
