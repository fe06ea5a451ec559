"""HubSpot work done by jobs: notes and properties for sent messages, workflow callbacks, closed-lost deals.

Each job is safe to run twice: a noted message has `noted_at`, a completed callback
`callback_completed_at`, and deals are recorded as events keyed by deal and close date.
"""

import logging
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import cast

from sqlalchemy import and_, or_, select, update

from connectors.errors import ConnectorError
from reengage import connections
from reengage.jobs import job
from reengage.models import Connection, Contact, Deal, Dropoff, Enrollment, Flow, Message
from reengage.models.deal import TO_PUSH
from reengage.platform import db
from reengage.providers.hubspot import inbound
from reengage.winback import deals as winback_deals
from reengage.winback import events as winback_events

log = logging.getLogger(__name__)
# Message states after a send (the note is written once it went).
WENT = ("sent", "delivered", "opened", "clicked")
# How often closed-lost deals are looked for, per connection.
DEAL_SYNC_EVERY = timedelta(minutes=5)
DEAL_PROPERTIES = ("dealname", "amount", "dealstage", "pipeline", "closedate", "hs_lastmodifieddate",
                   "hubspot_owner_id", "hs_arr", "deal_currency_code", "description")


def hubspot_accounts(account_ids: set[int]) -> set[int]:
    """Which of these accounts have HubSpot connected."""
    if not account_ids:
        return set()
    return set(db.session().scalars(select(Connection.account_id).where(
        Connection.provider == "hubspot", Connection.account_id.in_(account_ids))))


@job(merge_lists=True)
def note_sent(message_ids: list[int]) -> int:
    """Note each sent message on its HubSpot contact and write the contact's re-engagement properties."""
    db_session = db.session()
    rows = db_session.execute(
        select(Message, Contact, Flow.key, Dropoff.scenario)
        .join(Contact, Contact.id == Message.contact_id).join(Flow, Flow.id == Message.flow_id)
        .join(Enrollment, Enrollment.id == Message.enrollment_id)
        .outerjoin(Dropoff, Dropoff.id == Enrollment.dropoff_id)
        .where(Message.id.in_(message_ids), Message.noted_at.is_(None), Message.status.in_(WENT))
        .order_by(Message.id)).all()
    db_session.commit()
    noted, passing = 0, None
    links: dict[int, connections.Linked | None] = {}
    for message, contact, flow_key, scenario in rows:
        if message.account_id not in links:
            links[message.account_id] = connections.linked(message.account_id, "hubspot")
        link = links[message.account_id]
        if link is None:
            continue
        try:
            connections.call(link, partial(_note, link, message, contact, flow_key, scenario))
        except ConnectorError as error:
            passing = error if error.retryable else passing
            if error.kind != "permanent":
                continue
            log.warning("HubSpot refused the note of message %d: %s", message.id, error.message)
        with db.transaction() as session:
            session.execute(update(Message).where(Message.id == message.id).values(noted_at=db.utcnow()))
        noted += 1
    if passing is not None:
        raise passing  # the queue retries the job; noted messages are skipped then
    return noted


def _note(link: connections.Linked, message: Message, contact: Contact, flow_key: str, scenario: str | None) -> None:
    client = connections.hubspot_client(link)
    hubspot_id = contact.hubspot_id or (client.contact_id_by_email(contact.email) if contact.email else None)
    if hubspot_id is None:
        raise ConnectorError("permanent", "HubSpot has no contact with this email")
    if message.channel != "hubspot_task":  # a task is its own record on the timeline
        subject = message.content.get("subject") or message.content.get("text", "")[:80]
        client.create_note(hubspot_id, f"Reengage sent {message.channel} \u201c{subject}\u201d (flow {flow_key}, "
                                       f"phase {message.phase}).", message.sent_at or db.utcnow())
    names = link.settings.get("properties") or {}
    values = {"status": "in_sequence", "phase": str(message.phase),
              "last_touch": str(int((message.sent_at or db.utcnow()).timestamp() * 1000)), "scenario": scenario or ""}
    written = {names[kind]: value for kind, value in values.items() if names.get(kind)}
    if written:
        client.update_contact(hubspot_id, written)


@job(merge_lists=True)
def complete_callbacks(enrollment_ids: list[int]) -> int:
    """Let workflows waiting on ended enrollments go on, with whether the contact was recovered."""
    db_session = db.session()
    ended = list(db_session.scalars(select(Enrollment).where(
        Enrollment.id.in_(enrollment_ids), Enrollment.callback_id.is_not(None),
        Enrollment.callback_completed_at.is_(None), Enrollment.status != "active")))
    db_session.commit()
    done, passing = 0, None
    for enrollment in ended:
        link = connections.linked(enrollment.account_id, "hubspot")
        if link is None:
            log.warning("enrollment %d waits on a HubSpot callback but HubSpot is disconnected", enrollment.id)
            continue
        fields = {**inbound.outcome(enrollment), "hs_execution_state": "SUCCESS"}
        try:
            client = connections.hubspot_client(link)
            callback_id = cast(str, enrollment.callback_id)  # only enrollments with a callback are read
            connections.call(link, partial(client.complete_callback, callback_id, fields))
        except ConnectorError as error:
            passing = error if error.retryable else passing
            if error.kind != "permanent":
                continue
            # HubSpot no longer knows the callback (it expired): nothing will ever take it.
            log.warning("HubSpot refused callback %s of enrollment %d: %s", enrollment.callback_id, enrollment.id,
                        error.message)
        with db.transaction() as session:
            session.execute(update(Enrollment).where(Enrollment.id == enrollment.id).values(
                callback_completed_at=db.utcnow()))
        done += 1
    if passing is not None:
        raise passing
    return done


@job
def sync_closed_lost(connection_id: int) -> int:
    """Record deals that moved to a closed-lost stage since the cursor; mark known lost deals won when they are."""
    db_session = db.session()
    connection = db_session.get(Connection, connection_id)
    if connection is None:
        return 0
    link = connections.linked(connection.account_id, "hubspot")
    db_session.commit()
    if link is None:
        return 0
    client = connections.hubspot_client(link)
    cursor = dict(link.cursor)
    lost, won = connections.call(link, client.closed_stages)
    reason_property = link.settings.get("loss_reason_property", "closed_lost_reason")
    properties = [*DEAL_PROPERTIES, reason_property, *(p for p in (link.settings.get("competitor_property"),) if p)]
    recorded, after = 0, None
    owners: dict[str, str | None] = {}
    newest = cursor.get("deals_modified_after")
    while True:
        deals, after = connections.call(link, partial(
            client.deals_in_stages, [*lost, *won], cursor.get("deals_modified_after"), properties, after))
        for deal in deals:
            if deal["properties"].get("dealstage") in won:
                _won(link.account_id, deal)
            else:
                recorded += _record_deal(link, client, deal["id"], properties, reason_property, owners)
        if deals:  # sorted oldest change first; HubSpot's timestamps do not compare as strings
            newest = deals[-1]["properties"].get("hs_lastmodifieddate") or newest
        if after is None:
            break
    cursor.update(deals_modified_after=newest, next_sync_at=(db.utcnow() + DEAL_SYNC_EVERY).isoformat())
    with db.transaction() as session:
        session.execute(update(Connection).where(Connection.id == connection_id).values(cursor=cursor))
    return recorded


def _record_deal(link: connections.Linked, client, deal_id: str, properties: list[str], reason_property: str,
                 owners: dict) -> int:
    """Record the deal (with its stages, company, owner and contacts); and, when it has a contact, the event."""
    deal = connections.call(link, partial(client.deal, deal_id, properties))
    found = deal["properties"]
    company = connections.call(link, partial(client.company, deal["company_ids"][0])) if deal["company_ids"] else {}
    owner_id = found.get("hubspot_owner_id")
    if owner_id and str(owner_id).isdigit() and owner_id not in owners:
        owners[owner_id] = connections.call(link, partial(client.owner_name, owner_id))
    lost_at = winback_events.parse_time(found.get("closedate"))
    data = {"external_id": deal_id, "name": found.get("dealname") or f"HubSpot deal {deal_id}",
            "company": company.get("name"), "industry": company.get("industry"), "owner_id": owner_id,
            "owner": owners.get(owner_id), "amount": winback_events.number(found.get("amount")),
            "arr": winback_events.number(found.get("hs_arr")), "currency": found.get("deal_currency_code"),
            "loss_reason": found.get(reason_property) or None, "notes": found.get("description"),
            "competitor": found.get(link.settings.get("competitor_property") or "") or None,
            "stages": deal["stages"], "contacts": [{"hubspot_id": cid} for cid in deal["contact_ids"][:20]]}
    if lost_at is not None:
        data["lost_at"] = lost_at
    with db.transaction():
        winback_deals.upsert(link.account_id, {k: v for k, v in data.items() if v not in (None, [])}, "hubspot",
                             db.utcnow())
    if not deal["contact_ids"]:
        log.info("closed-lost deal %s has no contact in HubSpot: recorded as a deal, no dropoff", deal_id)
        return 1
    details = {name: found.get(name) for name in DEAL_PROPERTIES if found.get(name) not in (None, "")}
    details.update(deal_id=deal_id, loss_reason=found.get(reason_property) or "")
    key = f"hubspot-deal-lost-{deal_id}-{found.get('closedate') or ''}"
    inbound.record_event(link.account_id, {"hubspot_id": deal["contact_ids"][0]}, "deal.closed_lost",
                                 details, key)
    return 1


def _won(account_id: int, deal: dict) -> None:
    """A deal we knew lost is won now: the win-back's last outcome."""
    with db.transaction() as session:
        known = session.scalar(select(Deal).where(Deal.account_id == account_id, Deal.external_id == deal["id"]))
        if known is not None and known.won_at is None:
            at = winback_events.parse_time(deal["properties"].get("closedate")) or db.utcnow()
            winback_deals.add_outcome(known, "won", max(at, known.lost_at), "hubspot", f"hubspot-won-{deal['id']}")


@job(merge_lists=True)
def push_winback_drafts(deal_ids: list[int]) -> int:
    """Give each ready deal's owner a HubSpot task holding the win-back draft, on the deal and its contact."""
    db_session = db.session()
    rows = db_session.execute(select(Deal, Contact).outerjoin(Contact, Contact.id == Deal.contact_id).where(
        Deal.id.in_(deal_ids), TO_PUSH).order_by(Deal.id)).all()
    db_session.commit()
    pushed, passing = 0, None
    for deal, contact in rows:
        link = connections.linked(deal.account_id, "hubspot")
        status, note = "skipped", "HubSpot is not connected"
        if link is not None:
            try:
                task_id = connections.call(link, partial(_push, link, deal, contact))
                status, note = "pushed", f"HubSpot task {task_id}"
                pushed += 1
            except ConnectorError as error:
                if error.kind != "permanent":
                    passing = error if error.retryable else passing
                    continue
                status, note = "failed", error.message
        with db.transaction() as session:
            session.execute(update(Deal).where(Deal.id == deal.id, TO_PUSH).values(push_status=status,
                                                                                  push_note=note[:300]))
    if passing is not None:
        raise passing  # the queue retries; pushed deals are no longer pending
    return pushed


def _push(link: connections.Linked, deal: Deal, contact: Contact | None) -> str:
    client = connections.hubspot_client(link)
    contact_id = contact.hubspot_id if contact else None
    if contact_id is None and contact is not None and contact.email:
        contact_id = client.contact_id_by_email(contact.email)
    deal_id = deal.external_id if deal.source == "hubspot" else None
    if contact_id is None and deal_id is None:
        raise ConnectorError("permanent", "HubSpot has neither the deal nor its contact")
    recommendation = deal.recommendation
    body = (f"Win-back ready ({deal.priority} priority, score {deal.score}). Messenger: "
            f"{recommendation.get('messenger_label')}; channel: {recommendation.get('channel_label')}.\n\n"
            f"Subject: {deal.draft.get('subject')}\n\n{deal.draft.get('text')}")
    return client.create_task(contact_id, f"Win-back: {deal.name}", body, db.utcnow(), deal.owner_id, deal_id)


def due_deal_syncs(at: datetime) -> list[int]:
    """Connections whose closed-lost sync is on and due."""
    due = []
    for connection in db.session().scalars(select(Connection).where(Connection.provider == "hubspot")):
        next_at = (connection.cursor or {}).get("next_sync_at")
        if (connection.settings or {}).get("sync_closed_lost") and connection.status != "broken" and (
                next_at is None or datetime.fromisoformat(next_at).astimezone(UTC) <= at):
            due.append(connection.id)
    db.session().commit()
    return due


# Enrollments end inside transactions that commit a moment later: the sweep stays this far behind.
OUTCOME_LAG = timedelta(seconds=30)


def due_outcomes(at: datetime, limit: int) -> list[tuple[int, list[int], list]]:
    """Per HubSpot connection, enrollments ended since its cursor: (connection id, enrollment ids, new cursor).

    The cursor is (ended_at, id): one exit can end thousands of enrollments at the same moment.
    """
    found = []
    connections_query = select(Connection.id, Connection.account_id, Connection.cursor).where(
        Connection.provider == "hubspot", Connection.status != "broken")
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
    link = connections.linked(connection.account_id, "hubspot")
    rows = db_session.execute(select(Enrollment, Contact.hubspot_id).join(Contact, Contact.id == Enrollment.contact_id)
                              .where(Enrollment.id.in_(enrollment_ids))).all()
    db_session.commit()
    if link is None:
        return 0
    name = (link.settings.get("properties") or {}).get("status") or ""
    client, written = connections.hubspot_client(link), 0
    for enrollment, hubspot_id in rows if name else ():
        if not hubspot_id:
            continue
        status = "recovered" if inbound.outcome(enrollment)["recovered"] else enrollment.status
        try:
            connections.call(link, partial(client.update_contact, hubspot_id, {name: status}))
            written += 1
        except ConnectorError as error:
            if error.kind != "permanent":
                raise  # the cursor stays: the queue (or the next sweep) tries these again
            log.warning("HubSpot refused the status of enrollment %d: %s", enrollment.id, error.message)
    with db.transaction() as session:
        stored = dict(session.get_one(Connection, connection_id).cursor or {})
        session.execute(update(Connection).where(Connection.id == connection_id).values(
            cursor={**stored, "ended_through": through}))
    return written
