"""When a message may go: the contact's local send window, public holidays, and a frequency cap.

A step is planned at its offset from the enrollment and then moved forward, never dropped, to
the first moment that is inside the send window, on an allowed weekday, off a public holiday
of the contact's (else the account's) country, and under the cap on messages per channel.
Days of an offset count in the contact's wall-clock time, so `P3D` across a DST change still
lands at the same local hour.
"""

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# No allowed slot within this many days means the calendar is impossible (settings prevent it).
HORIZON_DAYS = 400


@cache
def country_holidays(country: str) -> holidays.HolidayBase:
    """The public holidays of `country` (ISO 3166-1 alpha-2), every year on demand."""
    return holidays.country_holidays(country)


def supported_country(country: str) -> bool:
    """Whether the holidays of `country` are known."""
    return country in holidays.list_supported_countries()


@dataclass(frozen=True)
class Calendar:
    """Where and when one contact may be messaged."""

    zone: ZoneInfo
    start: time
    end: time
    days: frozenset[int]
    country: str | None = None

    def holiday(self, day: date) -> str | None:
        """The name of the public holiday on `day`, if it is one."""
        if self.country is None:
            return None
        return country_holidays(self.country).get(day)

    def next_open(self, moment: datetime) -> tuple[datetime, str | None]:
        """The first moment at or after `moment` when sending is allowed, and why it moved (None if not)."""
        local = moment.astimezone(self.zone)
        why = None
        for _ in range(HORIZON_DAYS):
            day = local.date()
            closed = None
            if day.weekday() not in self.days:
                closed = f"not a send day ({WEEKDAYS[day.weekday()]})"
            elif (name := self.holiday(day)) is not None:
                closed = f"public holiday ({name})"
            else:
                opening, closing = self._at(day, self.start), self._at(day, self.end)
                if local < opening:
                    return opening.astimezone(UTC), why or "before the send window"
                if local < closing:
                    return local.astimezone(UTC), why
                closed = "after the send window"
            why = why or closed
            local = self._at(day + timedelta(days=1), time(0))
        raise ValueError("no day in the send window within a year")

    def _at(self, day: date, clock: time) -> datetime:
        """`clock` on `day` in the contact's zone; a time skipped by DST means the same instant after the jump."""
        return datetime.combine(day, clock, tzinfo=self.zone).astimezone(UTC).astimezone(self.zone)

    def planned(self, anchor: datetime, offset: timedelta) -> datetime:
        """`anchor` plus `offset`: whole days on the local wall clock, the rest in elapsed time."""
        local = anchor.astimezone(self.zone).replace(tzinfo=None) + timedelta(days=offset.days)
        return datetime.combine(local.date(), local.time(), tzinfo=self.zone).astimezone(UTC) + timedelta(
            seconds=offset.seconds, microseconds=offset.microseconds)


@dataclass(frozen=True)
class Cap:
    """At most `messages` per contact and channel in any span of `span`."""

    messages: int
    span: timedelta

    def next_allowed(self, moment: datetime, taken: Sequence[datetime]) -> datetime | None:
        """None when one more message at `moment` keeps every span under the cap, else a later moment to try.

        `taken` holds the contact's other messages on the channel, sorted.
        """
        low, high = bisect_left(taken, moment - self.span), bisect_left(taken, moment + self.span)
        near = [t for t in taken[low:high] if moment - self.span < t]
        # Only spans that hold `moment` matter, and their counts change only where a message enters or leaves.
        tiny = timedelta(microseconds=1)
        starts = {moment, moment - self.span + tiny, *near, *(t - self.span + tiny for t in near)}
        for first in sorted(s for s in starts if moment - self.span < s <= moment):
            inside = [t for t in near if first <= t < first + self.span]
            if len(inside) >= self.messages:
                return inside[0] + self.span
        return None


def place(planned: datetime, calendar: Calendar, cap: Cap, taken: Sequence[datetime]) -> tuple[datetime, str | None]:
    """The send time of a message planned for `planned`, and why it moved from there (None if it did not)."""
    moment, why = calendar.next_open(planned)
    for _ in range(len(taken) + HORIZON_DAYS):
        later = cap.next_allowed(moment, taken)
        if later is None:
            return moment, why
        why = why or "frequency cap"
        moment, _ = calendar.next_open(later)
    raise ValueError("the frequency cap leaves no slot")
