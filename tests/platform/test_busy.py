"""Background work gives way to requests in progress on other threads, never to its own."""

import threading
import time

from reengage.platform import busy


def test_a_job_waits_while_another_thread_serves_a_request_until_it_is_answered():
    entered, release = threading.Event(), threading.Event()

    def request() -> None:
        busy.enter()
        entered.set()
        release.wait(5)
        busy.leave()

    server = threading.Thread(target=request)
    server.start()
    entered.wait(5)
    threading.Timer(0.2, release.set).start()
    started = time.perf_counter()
    busy.give_way(5)
    waited = time.perf_counter() - started
    server.join(5)
    assert 0.15 < waited < 4  # until the request was answered, not the whole allowance


def test_a_job_run_inside_a_request_does_not_wait_for_that_request():
    busy.enter()
    try:
        started = time.perf_counter()
        busy.give_way(5)
        assert time.perf_counter() - started < 1
    finally:
        busy.leave()


def test_a_job_waits_no_longer_than_it_is_allowed():
    entered, release = threading.Event(), threading.Event()
    server = threading.Thread(target=lambda: (busy.enter(), entered.set(), release.wait(5), busy.leave()))
    server.start()
    entered.wait(5)
    started = time.perf_counter()
    busy.give_way(0.1)
    assert time.perf_counter() - started < 2
    release.set()
    server.join(5)


def serve(heavy: bool, entered: threading.Event, release: threading.Event) -> None:
    """A request on this thread, light or heavy, in progress until `release`."""
    busy.enter()
    if heavy:
        busy.heavy()
    entered.set()
    release.wait(5)
    busy.leave()


def waits_for(heavy_other: bool, heavy_self: bool | None) -> bool:
    """Whether give_way (in a request, heavy or light, or in a job: None) waits for another thread's request."""
    entered, release = threading.Event(), threading.Event()
    other = threading.Thread(target=serve, args=(heavy_other, entered, release))
    other.start()
    entered.wait(5)
    if heavy_self is not None:
        busy.enter()
        if heavy_self:
            busy.heavy()
    try:
        waited = busy.give_way(0.3)
    finally:
        if heavy_self is not None:
            busy.leave()
        release.set()
        other.join(5)
    return waited >= 0.3


def test_heavy_work_gives_way_to_light_requests_but_not_to_other_heavy_work():
    assert waits_for(heavy_other=False, heavy_self=True)
    assert not waits_for(heavy_other=True, heavy_self=True)


def test_a_job_gives_way_to_heavy_requests_too():
    assert waits_for(heavy_other=True, heavy_self=None)
    assert waits_for(heavy_other=False, heavy_self=None)
