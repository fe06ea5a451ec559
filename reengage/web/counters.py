"""Rate-limit counters kept in this process that expire lazily, with no thread per request.

limits' own MemoryStorage starts a `threading.Timer` (10 ms) to sweep expired counters, and
starts a new one on any hit after the last has ended: under steady traffic, a thread a request.
Its counters already expire when read, so here the sweep (which only frees memory) runs in the
calling thread, at most once every SWEEP_SECONDS.

Throttle counts attempts per key within a limit on such counters (or Redis): the dashboard's failed
sign-ins per address, an account's templates refused as over the render budget.
"""

import math
import time

from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

SWEEP_SECONDS = 1.0
SCHEME = "local"


class LocalCounters(MemoryStorage):
    """limits' in-memory storage, swept in passing instead of on timer threads (`local://`)."""

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 (limits declares it a plain list)

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.next_sweep = time.monotonic() + SWEEP_SECONDS

    # Replaces MemoryStorage's private `__schedule_expiry`, which its hits call (hence the mangled name).
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self.next_sweep:
            self.next_sweep = now + SWEEP_SECONDS
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


class Throttle:
    """Attempts per key within `limit` (limits' notation) under `namespace`; shared through Redis when
    `storage_uri` names it, else counted in this process. A Redis outage leaves every key free rather than shut,
    as with the API's limits."""

    def __init__(self, limit: str, storage_uri: str | None, namespace: str):
        self.limit, self.namespace = parse(limit), namespace
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri or f"{SCHEME}://"))

    def wait(self, key: str) -> int:
        """Seconds until `key` may try again; 0 when it may now."""
        try:
            if self.limiter.test(self.limit, self.namespace, key):
                return 0
            reset = self.limiter.get_window_stats(self.limit, self.namespace, key).reset_time
        except RedisError:
            return 0
        return max(1, math.ceil(reset - time.time()))

    def hit(self, key: str) -> None:
        """Count one attempt of `key`."""
        try:
            self.limiter.hit(self.limit, self.namespace, key)
        except RedisError:
            pass
