"""Send-time learning: the local hour a contact engages most, for steps a day or more after enrollment.

It learns from the contact's stored events of the last 180 days: opens, clicks and replies count
twice, any other event once, each at its local hour in the contact's time zone (else the
account's). Only hours inside the send window count. With fewer than three such events the
account's best hour (all its contacts' events, in the same zone) stands in; with none, the
window's first slot. A stable share of enrollments (`holdout_percent`) gets the window's first
slot instead, so that the metrics compare the two (`GET /v1/metrics/send-time`).
"""

from collections import Counter
from datetime import datetime, time, timedelta

from sqlalchemy import select

from reengage.models import Contact, Event
from reengage.platform import db, timing

ENGAGING = ("email.opened", "email.clicked", "email.replied", "sms.replied")
LOOKBACK = timedelta(days=180)
MIN_EVENTS = 3
# The account's hours are read from at most this many of its latest events.
ACCOUNT_SAMPLE = 5000
LEARNED, FIRST_SLOT = "learned", "first_slot"


def best_hour(contact: Contact, calendar: timing.Calendar, now: datetime) -> tuple[int, str]:
    """The contact's best allowed local hour and where it came from (`contact`, `account`, `window`)."""
    since = now - LOOKBACK
    mine = _hours(calendar, select(Event.type, Event.occurred_at).where(
        Event.account_id == contact.account_id, Event.contact_id == contact.id, Event.occurred_at >= since))
    if sum(mine.values()) >= MIN_EVENTS:
        return _top(mine), "contact"
    theirs = _hours(calendar, select(Event.type, Event.occurred_at).where(
        Event.account_id == contact.account_id, Event.occurred_at >= since)
        .order_by(Event.occurred_at.desc()).limit(ACCOUNT_SAMPLE))
    if theirs:
        return _top(theirs), "account"
    return calendar.start.hour, "window"


def _hours(calendar: timing.Calendar, query) -> Counter[int]:
    """Weighted events per local hour, counting only hours that open inside the send window."""
    counts: Counter[int] = Counter()
    for type_, occurred_at in db.session().execute(query):
        hour = occurred_at.astimezone(calendar.zone).hour
        if calendar.within_hours(time(hour)) or hour == calendar.start.hour:
            counts[hour] += 2 if type_ in ENGAGING else 1
    return counts


def _top(counts: Counter[int]) -> int:
    """The most weighted hour; the earliest of a tie."""
    return min(counts, key=lambda hour: (-counts[hour], hour))


def at_hour(calendar: timing.Calendar, planned: datetime, hour: int) -> datetime:
    """`planned`'s local day at `hour`:00 (or the window's opening minute, when that is the hour it opens)."""
    minute = calendar.start.minute if hour == calendar.start.hour else 0
    local = planned.astimezone(calendar.zone)
    return datetime.combine(local.date(), time(hour, minute), tzinfo=calendar.zone).astimezone(planned.tzinfo)


def applies(offset: timedelta) -> bool:
    """Steps a whole number of days after enrollment (a day or more) may move to another hour of their day."""
    return offset.days >= 1 and not offset.seconds and not offset.microseconds
