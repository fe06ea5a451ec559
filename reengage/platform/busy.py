"""Requests in progress in this process, so background work run on its threads can give way to them.

Without Redis, jobs (event processing) run on threads of the web process and share its CPU (and
Python's interpreter lock) with requests. Between chunks, a job waits while other threads have
requests in progress, for as long as its last chunk took: it gets about half the time while
requests wait, and all of it when none do. In an RQ worker no request is ever in progress.
"""

import threading

_lock = threading.Condition()
_serving: set[int] = set()  # threads with a request in progress


def enter() -> None:
    """Count the current thread's request as in progress."""
    with _lock:
        _serving.add(threading.get_ident())


def leave() -> None:
    """Count the current thread's request as answered."""
    with _lock:
        _serving.discard(threading.get_ident())
        _lock.notify_all()


def give_way(seconds: float) -> None:
    """Wait while other threads have requests in progress, for at most `seconds`."""
    me = threading.get_ident()
    with _lock:
        _lock.wait_for(lambda: not (_serving - {me}), timeout=seconds)
