"""Background work gives way to requests in progress on other threads, never to its own."""

import multiprocessing
import multiprocessing.synchronize
import os
import threading
import time

import pytest

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


@pytest.fixture
def shared(monkeypatch):
    """Counts shared with processes forked from here, as gunicorn's master shares them; one bulk chunk at a time."""
    monkeypatch.setattr(busy, "_shared", None)
    monkeypatch.setattr(busy, "_bulk", None)
    monkeypatch.setattr(busy, "_shared_light_ended", None)
    busy.share(1)


def in_another_process(work, ready: multiprocessing.synchronize.Event) -> multiprocessing.Process:
    """`work` run in a forked process (as a gunicorn worker is), once it has begun."""
    process = multiprocessing.get_context("fork").Process(target=work)
    process.start()
    assert ready.wait(5)
    return process


def heavy_work_waits_for_another_process(heavy_other: bool) -> float:
    """Seconds a heavy request's give_way waits while another process serves a request (light or heavy) for 0.4 s."""
    ready = multiprocessing.get_context("fork").Event()

    def request() -> None:
        busy.enter()
        if heavy_other:
            busy.heavy()
        ready.set()
        time.sleep(0.4)
        busy.leave()

    other = in_another_process(request, ready)
    busy.enter()
    busy.heavy()
    try:
        return busy.give_way(3)
    finally:
        busy.leave()
        other.join(5)


def test_heavy_work_gives_way_to_a_light_request_of_another_process(shared):
    assert 0.25 < heavy_work_waits_for_another_process(heavy_other=False) < 2.5  # until answered, not the allowance


def test_heavy_work_does_not_wait_for_heavy_work_of_another_process(shared):
    assert heavy_work_waits_for_another_process(heavy_other=True) < 0.2


def test_a_process_that_ended_mid_request_is_not_waited_for(shared):
    ready = multiprocessing.get_context("fork").Event()

    def dies_serving() -> None:
        busy.enter()
        ready.set()
        os._exit(0)  # killed with the request in progress: nothing ever leaves it

    other = in_another_process(dies_serving, ready)
    other.join(5)
    busy.forget(other.pid)  # as gunicorn's master does when a worker exits
    assert busy.give_way(0.5) < 0.3


def test_bulk_chunks_of_processes_take_turns(shared):
    ready = multiprocessing.get_context("fork").Event()

    def holds_a_chunk() -> None:
        with busy.bulk():
            ready.set()
            time.sleep(0.4)

    other = in_another_process(holds_a_chunk, ready)
    started = time.perf_counter()
    with busy.bulk(), busy.bulk():  # one inside another (a job run inline) takes no second turn
        waited = time.perf_counter() - started
    other.join(5)
    assert 0.25 < waited < busy.BULK_WAIT_SECONDS + 0.5


def test_without_shared_memory_each_process_gives_way_on_its_own(monkeypatch, caplog):
    monkeypatch.setattr(busy, "_shared", None)
    monkeypatch.setattr(busy, "_bulk", None)

    def no_shared_memory(*args, **kwargs):
        raise FileNotFoundError("/dev/shm")

    monkeypatch.setattr(multiprocessing, "Array", no_shared_memory)
    busy.share(1)
    assert busy._shared is None and "own process only" in caplog.text
    with busy.bulk():  # no turns to take
        assert busy.give_way(0.5) < 0.3


def test_light_traffic_is_a_light_request_of_another_thread_in_progress_or_just_answered(monkeypatch):
    monkeypatch.setattr(busy, "RECENT_SECONDS", 60.0)
    assert not busy.light_traffic()
    busy.enter()  # this thread's own request (a job run inside it) is not traffic for that job
    assert not busy.light_traffic()
    busy.heavy()
    busy.leave()
    assert not busy.light_traffic()  # a heavy request is bulk work itself
    serving, answer = threading.Event(), threading.Event()

    def request(heavy: bool) -> None:
        busy.enter()
        if heavy:
            busy.heavy()
        serving.set()
        answer.wait(5)
        busy.leave()

    other = threading.Thread(target=request, args=(True,))
    other.start()
    assert serving.wait(5)
    assert not busy.light_traffic()
    answer.set()
    other.join(5)
    serving.clear()
    answer.clear()
    other = threading.Thread(target=request, args=(False,))
    other.start()
    assert serving.wait(5)
    assert busy.light_traffic()
    answer.set()
    other.join(5)
    assert busy.light_traffic()  # answered within RECENT_SECONDS
    monkeypatch.setattr(busy, "RECENT_SECONDS", 0.0)
    assert not busy.light_traffic()


def test_light_traffic_counts_the_light_requests_of_other_processes(shared, monkeypatch):
    monkeypatch.setattr(busy, "RECENT_SECONDS", 60.0)
    ready, answered = multiprocessing.get_context("fork").Event(), multiprocessing.get_context("fork").Event()

    def request() -> None:
        busy.enter()
        ready.set()
        time.sleep(0.3)
        busy.leave()
        answered.set()

    assert not busy.light_traffic()
    other = in_another_process(request, ready)
    assert busy.light_traffic()  # in progress there
    assert answered.wait(5)
    other.join(5)
    assert busy.light_traffic()  # answered there just now
    monkeypatch.setattr(busy, "RECENT_SECONDS", 0.0)
    assert not busy.light_traffic()
