"""The contract every rule kind meets: its params, the goals that end its watches, and how it reads events."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from marshmallow import Schema
from sqlalchemy import Row

from reengage.detection.watches import Verdict
from reengage.models import Rule


@dataclass(frozen=True, eq=False)
class Detector:
    """A rule kind: what a rule of it takes, and how it opens and settles watches."""

    kind: str
    params: type[Schema]
    # Events that end a watch of this kind, for a rule's params.
    goals: Callable[[dict[str, Any]], list[str]]
    # Reads one event for one rule: may open or extend a watch.
    on_event: Callable[[Rule, Row[Any]], None]
    # A watch (its row) whose deadline passed: the dropoff it becomes, or None when it is no dropoff.
    on_expire: Callable[[Rule, Row[Any]], Verdict | None]
    # Every event type the kind reads (a late one of them means judging the contact again).
    reads: Callable[[dict[str, Any]], list[str]]
    # How long after a watch's deadline the clock still waits for a goal that arrives late.
    grace: Callable[[dict[str, Any]], timedelta] = lambda params: timedelta(0)
    # How far before an event `on_event` reads the contact's events (the kinds in `reads`); after it, any distance.
    looks_back: Callable[[dict[str, Any]], timedelta] = lambda params: timedelta(0)
