"""Where a contact's scheduled messages go on one channel, across all their flows.

Each message stays inside its phase whenever the calendar and the cap allow (reengage.platform.timing),
and the cap's slots go by urgency, not by which flow enrolled first: phase 1 before later phases, then
the phase that ends first (the older deadline), then the planned time. Messages already on their way
(queued, sending, sent) keep their times and count against the cap.
"""

from bisect import insort
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select

from reengage.models import Contact, Enrollment, Flow, Message
from reengage.models.message import COUNTED
from reengage.platform import db, timing
from reengage.sequencing import schedule
from reengage.sequencing.phases import BY_NUMBER, window
from reengage.settings import effective


def bounds(started_at: datetime, number: int, calendar: timing.Calendar, now: datetime) -> timing.Bounds:
    """Phase `number` of an enrollment started at `started_at` (its days on the contact's wall clock), from now on."""
    phase = BY_NUMBER[number]
    start, end = calendar.planned(started_at, phase.start), calendar.planned(started_at, phase.end)
    return timing.Bounds(max(start, now), end, f"phase {number} ({window(phase)})")


def replan(contact: Contact, channel: str, account_settings: dict, now: datetime) -> None:
    """Place every scheduled message of `contact` on `channel` again, the most urgent first."""
    replan_all([(contact, channel, account_settings)], now)


def replan_all(targets: Sequence[tuple[Contact, str, dict]], now: datetime) -> None:
    """`replan` each (contact, channel, account settings) of `targets`, their messages read and written together."""
    if not targets:
        return
    session = db.session()
    wanted = {(contact.id, channel) for contact, channel, _ in targets}
    of_these = (Message.contact_id.in_({contact_id for contact_id, _ in wanted}),
                Message.channel.in_({channel for _, channel in wanted}))
    scheduled: dict[tuple[int, str], list[tuple[Message, datetime, Flow]]] = defaultdict(list)
    for message, started_at, flow in session.execute(
            select(Message, Enrollment.started_at, Flow).join(Enrollment, Enrollment.id == Message.enrollment_id)
            .join(Flow, Flow.id == Message.flow_id).where(*of_these, Message.status == "scheduled")).all():
        scheduled[(message.contact_id, message.channel)].append((message, started_at, flow))
    taken: dict[tuple[int, str], list[datetime]] = defaultdict(list)
    for contact_id, channel, moment in session.execute(
            select(Message.contact_id, Message.channel, func.coalesce(Message.sent_at, Message.due_at))
            .where(*of_these, Message.status.in_(COUNTED), Message.status != "scheduled")):
        taken[(contact_id, channel)].append(moment)
    for contact, channel, account_settings in targets:
        _place(contact, account_settings, scheduled[(contact.id, channel)], sorted(taken[(contact.id, channel)]), now)
    session.flush()


def _place(contact: Contact, account_settings: dict, rows: list[tuple[Message, datetime, Flow]],
           taken: list[datetime], now: datetime) -> None:
    """Set the due time of each of `rows` (a contact's scheduled messages on a channel), around those `taken`."""
    calendars: dict[int, tuple[timing.Calendar, timing.Cap]] = {}
    placed = []
    for message, started_at, flow in rows:
        if flow.id not in calendars:
            settings = effective(account_settings, flow)
            calendars[flow.id] = schedule.calendar(settings, contact), schedule.cap(settings)
        calendar = calendars[flow.id][0]
        placed.append((bounds(started_at, message.phase, calendar, now), message, flow.id))
    for within, message, flow_id in sorted(placed, key=lambda item: (
            item[1].phase, item[0].end, item[1].planned_at, item[1].id)):
        calendar, cap = calendars[flow_id]
        due, why = timing.place(max(message.planned_at, now), calendar, cap, taken, within)
        message.due_at, message.moved_because = due, why
        insort(taken, due)
