"""Requests in progress in this process, so background and bulk work on its threads can give way to them.

Without Redis, jobs (event processing) run on threads of the web process and share its CPU (and
Python's interpreter lock) with requests. Between chunks, a job waits while other threads have
light requests in progress, for as long as its last chunk took: it gets about half the time while
they wait, and all of it when none do. In an RQ worker no request is ever in progress.

A request that turns out to be bulk work (a large event batch, a template rendered with a budget)
is marked heavy: it gives way in the same manner between its own chunks to light requests (not to
other heavy ones), so a single event waits for neither a job nor another account's batch or
template bomb.
"""

import threading
import time

_lock = threading.Condition()
_serving: dict[int, bool] = {}  # threads with a request in progress: whether it is heavy


def enter() -> None:
    """Count the current thread's request as in progress (light until marked heavy)."""
    with _lock:
        _serving[threading.get_ident()] = False


def leave() -> None:
    """Count the current thread's request as answered."""
    with _lock:
        _serving.pop(threading.get_ident(), None)
        _lock.notify_all()


def heavy() -> None:
    """Mark the current thread's request (if it is serving one) as bulk work, which others need not wait for."""
    me = threading.get_ident()
    with _lock:
        if me in _serving and not _serving[me]:
            _serving[me] = True
            _lock.notify_all()


def give_way(seconds: float) -> float:
    """Wait while other threads have requests in progress, for at most `seconds`; the seconds waited.

    A heavy request waits for light requests only; a job (no request) for any request.
    """
    me = threading.get_ident()
    started = time.monotonic()
    with _lock:
        if _serving.get(me):
            _lock.wait_for(lambda: all(bulk for thread, bulk in _serving.items() if thread != me), timeout=seconds)
        else:
            _lock.wait_for(lambda: not (_serving.keys() - {me}), timeout=seconds)
    return time.monotonic() - started
