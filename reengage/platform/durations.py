"""Durations as people write them: ISO 8601 (`PT24H`, `P3D`) or short (`24h`, `90m`, `3d`, `2w`)."""

import re
from datetime import timedelta
from functools import lru_cache

import isodate

SHORT = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@lru_cache(maxsize=1024)
def parse(text: str) -> timedelta:
    """The duration `text` names; ValueError when it names none (or a calendar span of months). Kept per text:
    every message sent reads its flow's cap and phases, from a handful of texts."""
    short = SHORT.match(text)
    if short:
        return timedelta(**{UNITS[short.group(2).lower()]: int(short.group(1))})
    try:
        duration = isodate.parse_duration(text.strip())
    except (isodate.ISO8601Error, ValueError):
        raise ValueError(f"{text!r} is not a duration: use ISO 8601 ('PT24H', 'P3D') or '24h', '90m', '3d'") from None
    if not isinstance(duration, timedelta):
        raise ValueError(f"{text!r} uses months or years, which have no fixed length: use days instead")
    return duration


def iso(span: timedelta) -> str:
    """`span` in ISO 8601, to the whole second (`P61DT3H`)."""
    return isodate.duration_isoformat(timedelta(seconds=int(span.total_seconds())))


def offset(text: str) -> timedelta:
    """Like parse, but also takes nothing at all (`0`, `PT0S`): a step may go at once."""
    return timedelta(0) if text.strip() in ("0", "PT0S", "P0D") else parse(text)
