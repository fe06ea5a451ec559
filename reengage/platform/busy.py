"""Requests in progress in this process, so background and bulk work on its threads can give way to them.

Without Redis, jobs (event processing) run on threads of the web process and share its CPU (and
Python's interpreter lock) with requests. Between chunks, a job waits while other threads have
light requests in progress, for as long as its last chunk took: it gets about half the time while
they wait, and all of it when none do. In an RQ worker no request is ever in progress.

A request that turns out to be bulk work (a large event batch, a template rendered with a budget)
is marked heavy: it gives way in the same manner between its own chunks to light requests (not to
other heavy ones), so a single event waits for neither a job nor another account's batch or
template bomb.

Under gunicorn the web processes share one more thing, set up in its master before it forks them
(`share`): how many light requests each process has in progress. Heavy work then gives way to light
requests of every process, not only its own: two cores shared by two processes would otherwise give a
single event half a core while the other process parses and writes a flood. Each process counts in its
own slot, and the master clears a slot when its process ends, so a crashed worker leaves no count behind.

Whether light requests are coming in at all (`light_traffic`: one in progress in another thread or process, or one
answered moments ago) tells bulk work how long to hold SQLite's write lock at a time.
"""

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)
_lock = threading.Condition()
_serving: dict[int, bool] = {}  # threads with a request in progress: whether it is heavy
# Light requests in progress per process (a slot per process id, modulo SLOTS), when shared between processes.
SLOTS = 256
_shared: Any = None
# Chunks of bulk work in progress at once among those processes (see bulk), and how long a chunk waits for its turn.
_bulk: Any = None
_holding = threading.local()
BULK_WAIT_SECONDS = 1.0
# How often a wait checks the other processes' light requests (they cannot wake it).
POLL_SECONDS = 0.002
# How long after a light request ends there is still light traffic (see light_traffic): the next one is likely near.
RECENT_SECONDS = 0.25
# When a light request last ended in this process, and in any of those sharing counts (a moment of time.monotonic,
# which every process reads alike).
_light_ended = 0.0
_shared_light_ended: Any = None


def share(bulk_chunks: int) -> None:
    """Count light requests in memory shared with the processes forked after this, and let `bulk_chunks` chunks of
    bulk work run at once among them (gunicorn's master calls it)."""
    global _shared, _bulk, _shared_light_ended
    try:
        _shared, _bulk = multiprocessing.Array("i", SLOTS), multiprocessing.BoundedSemaphore(bulk_chunks)
        _shared_light_ended = multiprocessing.Value("d", 0.0, lock=False)
    except OSError as error:  # no shared memory (a container without /dev/shm): each process on its own, as before
        log.warning("heavy work gives way within its own process only: no shared memory (%s)", error)
        _shared = _bulk = _shared_light_ended = None


@contextmanager
def bulk() -> Iterator[None]:
    """One chunk of bulk work (a part of a large batch, a chunk of event processing), taken in turns with the
    other processes' chunks when they share counts: however many batches and jobs are in progress, at most
    BULK_CONCURRENCY of their chunks run at once (one on two cores), so light requests keep a core. A chunk waits
    at most BULK_WAIT_SECONDS for its turn, then goes anyway; one inside another (a job run inline) takes no
    second turn. Hold no transaction while entering."""
    if _bulk is None or getattr(_holding, "bulk", False):
        yield
        return
    got = _bulk.acquire(timeout=BULK_WAIT_SECONDS)
    _holding.bulk = True
    try:
        yield
    finally:
        _holding.bulk = False
        if got:
            _bulk.release()


def forget(pid: int) -> None:
    """Clear the count of a process that ended (whatever it had in progress ended with it)."""
    if _shared is not None:
        _shared[pid % SLOTS] = 0


def _count(change: int) -> None:
    if _shared is not None:
        with _shared.get_lock():
            _shared[os.getpid() % SLOTS] += change


def _elsewhere() -> bool:
    """Whether another process has a light request in progress."""
    if _shared is None:
        return False
    mine = os.getpid() % SLOTS
    return any(count > 0 for slot, count in enumerate(_shared[:]) if slot != mine)


def enter() -> None:
    """Count the current thread's request as in progress (light until marked heavy)."""
    with _lock:
        _serving[threading.get_ident()] = False
    _count(1)


def leave() -> None:
    """Count the current thread's request as answered."""
    global _light_ended
    with _lock:
        was_heavy = _serving.pop(threading.get_ident(), None)
        _lock.notify_all()
    if was_heavy is False:
        _count(-1)
        _light_ended = time.monotonic()
        if _shared_light_ended is not None:
            _shared_light_ended.value = _light_ended


def light_traffic() -> bool:
    """Whether light requests are coming in: one of another thread (or, shared, another process) in progress, or one
    ended within RECENT_SECONDS. Bulk work then holds SQLite's write lock in shorter turns, so they wait less for it."""
    me = threading.get_ident()
    with _lock:
        if any(not is_heavy for thread, is_heavy in _serving.items() if thread != me):
            return True
    if _elsewhere():
        return True
    ended = max(_light_ended, _shared_light_ended.value if _shared_light_ended is not None else 0.0)
    return time.monotonic() - ended < RECENT_SECONDS


def heavy() -> None:
    """Mark the current thread's request (if it is serving one) as bulk work, which others need not wait for."""
    me = threading.get_ident()
    with _lock:
        marked = me in _serving and not _serving[me]
        if marked:
            _serving[me] = True
            _lock.notify_all()
    if marked:
        _count(-1)


def give_way(seconds: float) -> float:
    """Wait while other threads have requests in progress, for at most `seconds`; the seconds waited.

    A heavy request waits for light requests only, of this process or another; a job (no request) for any request
    of this process and light ones of others.
    """
    me = threading.get_ident()
    started = time.monotonic()
    deadline = started + seconds
    if _serving.get(me):
        def clear() -> bool:
            return all(bulk for thread, bulk in _serving.items() if thread != me)
    else:
        def clear() -> bool:
            return not (_serving.keys() - {me})
    with _lock:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if not _elsewhere():
                if _lock.wait_for(clear, timeout=left) and not _elsewhere():
                    break
            else:
                _lock.wait(timeout=min(left, POLL_SECONDS))
    return time.monotonic() - started
