"""A cap on each account's event batches in progress in this process, so one account cannot hold them all.

The events budget (EVENT_RATE_LIMIT) bounds an account's volume per minute; until it runs out, a
flood of large batches could still hold every thread of every web worker and queue on the
database's write lock ahead of everyone else. Past EVENT_BATCH_CONCURRENCY batches (requests of
more than SMALL_ITEMS events) of one account at once, the next is answered 429 with Retry-After at
once, costing nothing; single events and small batches are never held back here. Every request
is also counted in `busy`, which background jobs of this process give way to.
"""

import threading
from collections import Counter

from flask import Flask, g, request

from reengage.intake.group_commit import SMALL_ITEMS
from reengage.platform import busy
from reengage.platform.auth import account_id, authenticate
from reengage.platform.errors import ApiError

RETRY_AFTER_SECONDS = 1


class InFlight:
    """Counts the requests of each account in progress, refusing those past a cap."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[int] = Counter()

    def enter(self, account: int, cap: int) -> bool:
        """Count one more request of `account`, unless `cap` are already in progress."""
        with self._lock:
            if self._counts[account] >= cap:
                return False
            self._counts[account] += 1
            return True

    def leave(self, account: int) -> None:
        """Count one request of `account` as finished."""
        with self._lock:
            self._counts[account] -= 1
            if self._counts[account] <= 0:
                del self._counts[account]


def is_large_batch() -> bool:
    """Whether the request posts more than SMALL_ITEMS events (its body is parsed once; the route reuses it)."""
    payload = request.get_json(silent=True)
    events = payload.get("events") if isinstance(payload, dict) else None
    return isinstance(events, list) and len(events) > SMALL_ITEMS


def init_app(app: Flask, endpoint: str) -> None:
    """Cap each account's large batches to `endpoint` in progress at EVENT_BATCH_CONCURRENCY (per process)."""
    counts = InFlight()

    @app.before_request
    def _enter() -> None:
        busy.enter()
        g.busy = True
        if request.endpoint != endpoint or request.method != "POST":
            return
        authenticate()  # the same check (and cache) as the route's own; a bad key is answered 401
        if not is_large_batch():
            return
        account, cap = account_id(), app.config["EVENT_BATCH_CONCURRENCY"]
        if not counts.enter(account, cap):
            raise ApiError(429, "rate_limited",
                           f"This account already has {cap} event batches in progress; retry when one is answered.",
                           headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        g.event_slot = account

    @app.teardown_request
    def _leave(_error: BaseException | None) -> None:
        if g.pop("busy", False):
            busy.leave()
        account = g.pop("event_slot", None)
        if account is not None:
            counts.leave(account)
