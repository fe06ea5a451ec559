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
# A send window's end that keeps it open until midnight, the end of the day.
END_OF_DAY = "24:00"
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
    end: time | None  # None: open until midnight
    days: frozenset[int]
    country: str | None = None

    def holiday(self, day: date) -> str | None:
        """The name of the public holiday on `day`, if it is one."""
        if self.country is None:
            return None
        return country_holidays(self.country).get(day)

    def next_open(self, moment: datetime) -> tuple[datetime, str | None]:
        """The first moment at or after `moment` when sending is allowed, and every reason it moved (None if not)."""
        opened, reasons = self.open_after(moment)
        return opened, why(reasons)

    def open_after(self, moment: datetime) -> tuple[datetime, list[str]]:
        """The first moment at or after `moment` when sending is allowed, and each reason it moved, in order."""
        local = moment.astimezone(self.zone)
        reasons: list[str] = []
        for _ in range(HORIZON_DAYS):
            day = local.date()
            closed = None
            if day.weekday() not in self.days:
                closed = _skipped_day(reasons, WEEKDAYS[day.weekday()])
            elif (name := self.holiday(day)) is not None:
                closed = f"public holiday ({name})"
            else:
                opening, closing = self._at(day, self.start), self._closing(day)
                if local < opening:
                    return opening.astimezone(UTC), reasons or ["before the send window"]
                if local < closing:
                    return local.astimezone(UTC), reasons
                closed = "after the send window"
            if closed and closed not in reasons:
                reasons.append(closed)
            local = self._at(day + timedelta(days=1), time(0))
        raise ValueError("no day in the send window within a year")

    def allows(self, moment: datetime) -> bool:
        """Whether sending is allowed at `moment`."""
        return self.next_open(moment)[0] == moment

    def open_hours(self, day: date) -> tuple[datetime, datetime] | None:
        """The send window of `day` (opening, closing), or None when the day is closed."""
        if day.weekday() not in self.days or self.holiday(day) is not None:
            return None
        return self._at(day, self.start).astimezone(UTC), self._closing(day).astimezone(UTC)

    def within_hours(self, clock: time) -> bool:
        """Whether the local time of day `clock` is inside the window's hours (on a day it is open)."""
        return self.start <= clock and (self.end is None or clock < self.end)

    def _closing(self, day: date) -> datetime:
        """When the window of `day` closes: at its end, or at the midnight that ends the day."""
        if self.end is None:
            return self._at(day + timedelta(days=1), time(0))
        return self._at(day, self.end)

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


@dataclass(frozen=True)
class Bounds:
    """Where a step belongs: its phase, from `start` up to (not including) `end`, named for people."""

    start: datetime
    end: datetime
    name: str


def _skipped_day(reasons: list[str], day: str) -> str | None:
    """Weekdays skipped in a row make one reason (`not a send day (sat, sun)`): None when `day` joined it."""
    if reasons and reasons[-1].startswith("not a send day ("):
        if f"{day})" not in reasons[-1] and f"{day}," not in reasons[-1]:
            reasons[-1] = f"{reasons[-1][:-1]}, {day})"
        return None
    return f"not a send day ({day})"


def why(reasons: list[str], limit: int = 200) -> str | None:
    """Every reason a message moved, in order, as one text (None when it did not move); when too long for
    `limit`, the middle gives way to an ellipsis and the last reason stays."""
    text = "; ".join(reasons)
    if len(text) <= limit:
        return text or None
    last = reasons[-1][:limit - 5]
    return f"{'; '.join(reasons[:-1])[:limit - len(last) - 5]}...; {last}"


def place(planned: datetime, calendar: Calendar, cap: Cap, taken: Sequence[datetime],
          within: Bounds | None = None) -> tuple[datetime, str | None]:
    """The send time of a message planned for `planned`, and every reason it moved from there (None if it did not).

    Moved forward to the first allowed moment; when that leaves `within` (its phase), the latest allowed
    moment inside the phase before `planned` is taken instead, and when there is none it says so.
    """
    moment, reasons = _forward(planned, calendar, cap, taken)
    if within is None or moment < within.end:
        return moment, why(reasons)
    earlier = _backward(planned, calendar, cap, taken, within)
    if earlier is not None:
        return earlier, why([*reasons, f"moved earlier to stay inside {within.name}"])
    return moment, why([*reasons, f"no slot inside {within.name}"])


def _forward(planned: datetime, calendar: Calendar, cap: Cap, taken: Sequence[datetime]) -> tuple[datetime, list[str]]:
    moment, reasons = calendar.open_after(planned)
    for _ in range(len(taken) + HORIZON_DAYS):
        later = cap.next_allowed(moment, taken)
        if later is None:
            return moment, reasons
        if "frequency cap" not in reasons:
            reasons.append("frequency cap")
        moment, more = calendar.open_after(later)
        reasons.extend(reason for reason in more if reason not in reasons)
    raise ValueError("the frequency cap leaves no slot")


def _backward(planned: datetime, calendar: Calendar, cap: Cap, taken: Sequence[datetime],
              within: Bounds) -> datetime | None:
    """The latest moment in [within.start, planned) that the calendar and the cap allow, if any."""
    tiny = timedelta(seconds=1)
    # Where what is allowed can begin or end: window edges, the cap's span around each message, the plan.
    edges = {planned - tiny, within.start}
    for moment in taken:
        edges.update((moment + cap.span, moment - cap.span - tiny, moment + cap.span - tiny))
    day, first = planned.astimezone(calendar.zone).date(), within.start.astimezone(calendar.zone).date()
    while day >= first:
        hours = calendar.open_hours(day)
        if hours is not None:
            opening, closing = hours
            inside = {opening, closing - tiny} | {edge for edge in edges if opening <= edge < closing}
            for candidate in sorted(inside, reverse=True):
                if (within.start <= candidate < planned and opening <= candidate < closing
                        and cap.next_allowed(candidate, taken) is None):
                    return candidate
        day -= timedelta(days=1)
    return None
