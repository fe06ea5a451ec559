"""Rate-limit counters kept in this process that expire lazily, with no thread per request.

limits' own MemoryStorage starts a `threading.Timer` (10 ms) to sweep expired counters, and
starts a new one on any hit after the last has ended: under steady traffic, a thread a request.
Its counters already expire when read, so here the sweep (which only frees memory) runs in the
calling thread, at most once every SWEEP_SECONDS.
"""

import time

from limits.storage import MemoryStorage

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
