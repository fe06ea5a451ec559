"""Enrollments: putting a contact in a flow with every step scheduled, and taking them out again."""

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, insert, select, text, update

from reengage.models import Account, Contact, Dropoff, Enrollment, Flow, Message, Suppression
from reengage.models.message import PENDING, UNFINISHED
from reengage.platform import db, durations, timing
from reengage.platform.errors import ApiError
from reengage.sequencing import placement, schedule, sendtime
from reengage.settings import effective

messages_table = Message.__table__
# The source of an enrollment made only to carry one message sent by an action (send-phase-message).
ONE_MESSAGE = "message"
# Held-out enrollments still running: the clock completes them once their last would-be step has passed.
HELD_OUT_ACTIVE = text("enrollments.status = 'active' AND enrollments.holdout")
# Reasons that also put the contact on the channel's suppression list.
SUPPRESSING = ("unsubscribed", "bounced", "spam_report")


class Refused(ApiError):
    """The contact cannot enter the flow now (cooling down after an earlier run)."""

    def __init__(self, message: str, until: datetime):
        super().__init__(409, "cooldown", message, {"until": until.isoformat()})
        self.until = until


def dropoff_of(contact: Contact, dropoff_id: int | None) -> Dropoff | None:
    """The dropoff `dropoff_id` of this contact (None when no id is given); 404 when it is not theirs."""
    if dropoff_id is None:
        return None
    dropoff = db.session().get(Dropoff, dropoff_id)
    if dropoff is None or dropoff.account_id != contact.account_id or dropoff.contact_id != contact.id:
        raise ApiError(404, "not_found", f"No dropoff {dropoff_id} for this contact.")
    return dropoff


def bucket(*parts: object) -> int:
    """A stable number 0-99 for `parts`: the same contact always lands in the same group."""
    digest = hashlib.sha256(":".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def steps(flow: Flow) -> list[tuple[int, dict]]:
    """(phase number, step) of every step of `flow`, in phase order."""
    return [(number, step) for number, phase in enumerate(flow.phases, start=1) for step in phase["steps"]]


@dataclass(frozen=True)
class Entry:
    """A contact to enroll in a flow: for a dropoff (when one led to it), from a source, under account settings."""

    flow: Flow
    contact: Contact
    dropoff: Dropoff | None
    source: str
    account_settings: dict


@dataclass
class _Start:
    """What enrolling an entry decided, kept until its enrollment has an id to schedule its messages under."""

    index: int
    entry: Entry
    enrollment: Enrollment
    carried: bool
    holdout: bool
    calendar: timing.Calendar
    hour: int | None
    plan: list[tuple[int, dict]]


def enroll(flow: Flow, contact: Contact, dropoff: Dropoff | None, at: datetime, source: str,
           account_settings: dict) -> tuple[Enrollment, bool]:
    """Enroll `contact` in `flow` as of `at`, scheduling every step; (the enrollment, whether it is new).

    An active enrollment in the flow is answered as it is, except one holding a single message sent by
    an action (ONE_MESSAGE), which takes the flow's steps; within the flow's cooldown after the last
    enrollment that ran the flow ended, Refused is raised.
    """
    outcome = enroll_all([Entry(flow, contact, dropoff, source, account_settings)], at)[0]
    if isinstance(outcome, Refused):
        raise outcome
    return outcome


def enroll_all(entries: Sequence[Entry], at: datetime) -> list[tuple[Enrollment, bool] | Refused]:
    """`enroll` each entry as of `at`, in order, with a few statements for them all; each one's outcome (Refused
    when it is refused).

    Entries naming one flow and contact go in waves, one after another: a later one meets the enrollment
    the earlier one made, as when enrolled one at a time.
    """
    outcomes: dict[int, tuple[Enrollment, bool] | Refused] = {}
    waiting = list(enumerate(entries))
    while waiting:
        wave: list[tuple[int, Entry]] = []
        later: list[tuple[int, Entry]] = []
        keys: set[tuple[int, int]] = set()
        for index, entry in waiting:
            key = (entry.flow.id, entry.contact.id)
            (later if key in keys else wave).append((index, entry))
            keys.add(key)
        outcomes.update(_enroll_wave(wave, at))
        waiting = later
    return [outcomes[index] for index in range(len(entries))]


def _enroll_wave(wave: list[tuple[int, Entry]], at: datetime) -> dict[int, tuple[Enrollment, bool] | Refused]:
    """Enroll entries of distinct flows and contacts: their enrollments, messages and placement written together."""
    db_session = db.session()
    of_these = (Enrollment.contact_id.in_({entry.contact.id for _, entry in wave}),
                Enrollment.flow_id.in_({entry.flow.id for _, entry in wave}))
    active = {(enrollment.flow_id, enrollment.contact_id): enrollment for enrollment in db_session.scalars(
        select(Enrollment).where(*of_these, Enrollment.status == "active"))}
    # A single message sent by an action ran no sequence, so it starts no cooldown.
    last_ends: dict[tuple[int, int], datetime] = {
        (flow_id, contact_id): ended for flow_id, contact_id, ended in db_session.execute(
            select(Enrollment.flow_id, Enrollment.contact_id, func.max(Enrollment.ended_at))
            .where(*of_these, Enrollment.source != ONE_MESSAGE).group_by(Enrollment.flow_id, Enrollment.contact_id))
        if ended is not None}
    outcomes: dict[int, tuple[Enrollment, bool] | Refused] = {}
    starts: list[_Start] = []
    for index, entry in wave:
        flow, contact = entry.flow, entry.contact
        current = active.get((flow.id, contact.id))
        carrier = current if current is not None and current.source == ONE_MESSAGE else None
        last_end = last_ends.get((flow.id, contact.id))
        if current is not None and carrier is None:
            if not finish_if_done(current, at):
                outcomes[index] = (current, False)
                continue
            ended = cast(datetime, current.ended_at)  # set as it was finished
            last_end = ended if last_end is None else max(last_end, ended)
        settings = effective(entry.account_settings, flow)
        if last_end is not None and at < last_end + schedule.cooldown(settings):
            until = last_end + schedule.cooldown(settings)
            outcomes[index] = Refused(f"Contact {contact.id} left flow {flow.key!r} at {last_end.isoformat()}; it may "
                                      f"start again after the {settings['cooldown']} cooldown, at {until.isoformat()}.",
                                      until)
            continue
        starts.append(_start(index, entry, carrier, settings, at))
    db_session.flush()
    # Steps the single message already is (sent by the action under the step's own name) are not scheduled again.
    taken: dict[int, set[str]] = defaultdict(set)
    carried = [start.enrollment.id for start in starts if start.carried]
    if carried:
        for enrollment_id, step in db_session.execute(
                select(Message.enrollment_id, Message.step).where(Message.enrollment_id.in_(carried))):
            taken[enrollment_id].add(step)
    rows: list[dict[str, Any]] = []
    to_place: dict[tuple[int, str], tuple[Contact, dict]] = {}
    for start in starts:
        scheduled = _messages(start, taken[start.enrollment.id], at)
        rows.extend(scheduled)
        if start.holdout:
            start.enrollment.ends_at = max((row["due_at"] for row in scheduled), default=at)
        else:
            for row in scheduled:
                to_place[(start.entry.contact.id, row["channel"])] = (start.entry.contact, start.entry.account_settings)
        dropoff = start.entry.dropoff
        if dropoff is not None and dropoff.status == "open":
            dropoff.status = "enrolled"
        outcomes[start.index] = (start.enrollment, True)
    if rows:
        db_session.execute(insert(messages_table), rows)
    placement.replan_all([(contact, channel, account_settings)
                          for (_, channel), (contact, account_settings) in sorted(to_place.items())], at)
    return outcomes


def _start(index: int, entry: Entry, carrier: Enrollment | None, settings: dict, at: datetime) -> _Start:
    """Decide the entry's group, variants and send hour, and add its enrollment (or take over the carrier)."""
    flow, contact = entry.flow, entry.contact
    # A contact who already had a message of this flow is no clean holdout member.
    holdout = carrier is None and bucket(flow.key, contact.id, "holdout") < flow.holdout_percent
    plan = steps(flow)
    variants = {f"{number}.{step['key']}": ["A", *(v["key"] for v in step["variants"])][
        bucket(flow.key, number, step["key"], contact.id) % (1 + len(step["variants"]))]
        for number, step in plan if step.get("variants")}
    calendar = schedule.calendar(settings, contact)
    hour = None
    if settings["send_time"]["learn"] and not holdout:
        group = sendtime.FIRST_SLOT if bucket(flow.key, contact.id, "send_time") < settings["send_time"][
            "holdout_percent"] else sendtime.LEARNED
        hour, hour_source = sendtime.best_hour(contact, calendar, at) if group == sendtime.LEARNED else (
            calendar.start.hour, "window")
        # Recorded beside the step variants, so that the metrics compare the two groups.
        variants = {**variants, "send_time": group, "send_hour": f"{hour:02d}:00 ({hour_source})"}
    enrollment = carrier or Enrollment(account_id=flow.account_id, flow_id=flow.id, contact_id=contact.id,
                                       holdout=holdout, started_at=at, status="active")
    enrollment.dropoff_id = entry.dropoff.id if entry.dropoff else None
    enrollment.variants, enrollment.source = variants, entry.source
    db.session().add(enrollment)
    return _Start(index, entry, enrollment, carrier is not None, holdout, calendar, hour, plan)


def _messages(start: _Start, taken: set[str], at: datetime) -> list[dict[str, Any]]:
    """The rows of the messages an enrollment schedules (its steps but those `taken`), earliest offset first."""
    entry, enrollment = start.entry, start.enrollment
    flow, contact = entry.flow, entry.contact
    plan = [(number, step) for number, step in start.plan if f"{number}.{step['key']}" not in taken]
    variants = enrollment.variants
    rows = []
    for number, step in sorted(plan, key=lambda item: durations.offset(item[1]["offset"])):
        key = f"{number}.{step['key']}"
        offset = durations.offset(step["offset"])
        planned = start.calendar.planned(at, offset)
        if start.hour is not None and sendtime.applies(offset):
            planned = sendtime.at_hour(start.calendar, planned, start.hour)
        # When it would have gone, for comparing the groups: held-out rows never count against the cap. The
        # others are placed below, with the contact's other scheduled messages on the channel.
        due, why = start.calendar.next_open(planned) if start.holdout else (planned, None)
        rows.append({"account_id": flow.account_id, "enrollment_id": enrollment.id, "flow_id": flow.id,
                     "contact_id": contact.id, "step": key, "phase": number, "channel": step["channel"],
                     "variant": variants.get(key), "status": "held_out" if start.holdout else "scheduled",
                     "reason": "holdout group" if start.holdout else None, "planned_at": planned, "due_at": due,
                     "moved_because": why, "attempts": 0, "content": {}, "created_at": at, "updated_at": at})
    return rows


def pending(enrollment_id: int) -> int:
    """How many of the enrollment's messages are not finished (still to go, or going now)."""
    return db.session().execute(select(func.count()).where(Message.enrollment_id == enrollment_id,
                                                           Message.status.in_(UNFINISHED))).scalar_one()


def finish_if_done(enrollment: Enrollment, at: datetime) -> bool:
    """Complete `enrollment` when nothing of it is left to send (a holdout's once its last step is past)."""
    pending, last = db.session().execute(
        select(func.count().filter(Message.status.in_(UNFINISHED)), func.max(Message.due_at))
        .where(Message.enrollment_id == enrollment.id)).one()
    if pending or (enrollment.holdout and last is not None and last > at):
        return False
    enrollment.status, enrollment.ended_at = "completed", max(at, last or at)
    db.session().flush()
    return True


def complete_holdouts(at: datetime, limit: int) -> int:
    """Complete held-out enrollments whose last would-be step has passed; answer how many."""
    with db.transaction() as db_session:
        query = (select(Enrollment.id).where(HELD_OUT_ACTIVE, Enrollment.ends_at <= at).order_by(Enrollment.ends_at)
                 .limit(limit).with_for_update(skip_locked=True))
        ids = list(db_session.scalars(query))
        if ids:
            db_session.execute(update(Enrollment.__table__).where(Enrollment.id.in_(ids))
                               .values(status="completed", ended_at=Enrollment.ends_at))
    return len(ids)


def finish_done(enrollment_ids: Iterable[int], at: datetime) -> None:
    """Complete those of the given active (non-holdout) enrollments whose every message is finished."""
    ids = set(enrollment_ids)
    if not ids:
        return
    # Locked first, in one order: two jobs finishing sibling messages each see the other's outcome once committed.
    ids = set(db.session().scalars(select(Enrollment.id).where(Enrollment.id.in_(ids), Enrollment.status == "active")
                                   .order_by(Enrollment.id).with_for_update()))
    if not ids:
        return
    waiting = select(Message.enrollment_id).where(Message.enrollment_id.in_(ids), Message.status.in_(UNFINISHED))
    done = ids - set(db.session().scalars(waiting.distinct()))
    if done:
        db.session().execute(update(Enrollment.__table__).where(
            Enrollment.id.in_(done), Enrollment.status == "active", Enrollment.holdout.is_(False))
            .values(status="completed", ended_at=at))


def end(enrollment_ids: Iterable[int], reason: str, at: datetime) -> int:
    """Exit the given active enrollments for `reason`; their pending messages are skipped. Answer how many."""
    ids = list(enrollment_ids)
    if not ids:
        return 0
    connection = db.session().connection()
    ended = connection.execute(
        update(Enrollment.__table__).where(Enrollment.id.in_(ids), Enrollment.status == "active")
        .values(status="exited", exit_reason=reason, ended_at=at)).rowcount
    connection.execute(
        update(messages_table).where(messages_table.c.enrollment_id.in_(ids), messages_table.c.status.in_(PENDING))
        .values(status="skipped", reason=f"enrollment exited: {reason}", updated_at=at))
    return ended


def active_ids(account_id: int, contact_ids: Iterable[int], flow_ids: Iterable[int] | None = None,
               started_by: datetime | None = None) -> list[int]:
    """Ids of the active enrollments of these contacts (in these flows, started by this time, when given)."""
    query = select(Enrollment.id).where(Enrollment.account_id == account_id, Enrollment.status == "active",
                                        Enrollment.contact_id.in_(list(contact_ids)))
    if flow_ids is not None:
        query = query.where(Enrollment.flow_id.in_(list(flow_ids)))
    if started_by is not None:
        query = query.where(Enrollment.started_at <= started_by)
    return list(db.session().scalars(query))


def on_dismissed(dropoff_id: int, at: datetime) -> None:
    """A dropoff was dismissed: its enrollments end."""
    query = select(Enrollment.id).where(Enrollment.dropoff_id == dropoff_id, Enrollment.status == "active")
    end(db.session().scalars(query), "dismissed", at)


def suppress(account_id: int, contact_id: int, channel: str, reason: str, at: datetime) -> bool:
    """Put the contact on the channel's suppression list and end their enrollments; False if already there."""
    statement = db.insert_new(Suppression.__table__).values(
        account_id=account_id, contact_id=contact_id, channel=channel, reason=reason, created_at=at)
    # An INSERT answers a CursorResult, which counts the rows it added.
    added = cast(CursorResult[Any], db.session().execute(statement.on_conflict_do_nothing())).rowcount
    end(active_ids(account_id, [contact_id]), reason if reason in SUPPRESSING else "manual", at)
    return bool(added)


def account_settings(account_id: int) -> dict:
    """The account's own settings (what it changed from the defaults)."""
    return db.session().scalar(select(Account.settings).where(Account.id == account_id)) or {}
