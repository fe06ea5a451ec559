"""Settings in effect for one flow and contact, and the send time of each step they give."""

from bisect import insort
from datetime import datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from reengage.models import Contact
from reengage.platform import durations, timing


def calendar(settings: dict, contact: Contact) -> timing.Calendar:
    """When `contact` may be messaged: in their zone (else the account's), off their country's holidays."""
    window = settings["send_window"]
    country = (contact.country or settings["country"]) if settings["skip_holidays"] else None
    if country is not None and not timing.supported_country(country):
        country = settings["country"] if settings["country"] and timing.supported_country(settings["country"]) else None
    return timing.Calendar(
        zone=ZoneInfo(contact.timezone or settings["timezone"]),
        start=_clock(window["start"]),
        end=None if window["end"] == timing.END_OF_DAY else _clock(window["end"]),
        days=frozenset(timing.WEEKDAYS.index(day) for day in window["days"]),
        country=country,
    )


@lru_cache(maxsize=256)
def _clock(text: str) -> time:
    """A send window's "HH:MM" as a time of day (read for every message sent, from a handful of values)."""
    return datetime.strptime(text, "%H:%M").time()


def cap(settings: dict) -> timing.Cap:
    """The frequency cap of `settings`."""
    return timing.Cap(settings["frequency_cap"]["messages"], durations.parse(settings["frequency_cap"]["per"]))


def cooldown(settings: dict) -> timedelta:
    """How long after an enrollment ends before the same flow may start again for the contact."""
    return durations.parse(settings["cooldown"])


def book(moments: list[datetime], moment: datetime) -> None:
    """Count `moment` among `moments` (kept sorted) for the next step's cap."""
    insort(moments, moment)
