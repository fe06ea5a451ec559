"""Event processing as a job: in-process (inline and on a thread) and through RQ and a worker."""

import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.worker import SimpleWorker
from sqlalchemy import create_engine, insert, select, text

from app import create_app
from reengage.jobs import events as event_jobs
from reengage.jobs import job
from reengage.jobs.events import CONTACT_LOCKS, hold_contacts, process_events
from reengage.models import Contact, Event
from reengage.platform import db
from reengage.platform import queue as queues
from tests.support import event, settings

ROOT = Path(__file__).resolve().parents[2]


def processed(app) -> list[bool]:
    with app.app_context():
        return [e.processed_at is not None for e in db.session().scalars(select(Event).order_by(Event.id))]


def last_event_at(app):
    with app.app_context():
        return db.session().scalar(select(Contact.last_event_at))


def wait_until(predicate, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def test_inline_job_processes_events_before_the_answer(client, app, acme):
    client.post("/v1/events", json=event(occurred_at="2026-05-01T12:00:00Z"), headers=acme.headers)
    assert processed(app) == [True]
    assert last_event_at(app).isoformat() == "2026-05-01T12:00:00+00:00"


def test_threaded_job_processes_events_after_the_answer(database_url, make_account):
    app = create_app(settings(database_url, JOBS_INLINE=False))
    tenant = make_account()
    response = app.test_client().post("/v1/events", json=event(), headers=tenant.headers)
    assert response.json["status"] == "created"
    wait_until(lambda: processed(app) == [True])


def test_job_is_safe_to_run_twice(client, app, acme):
    app.config["JOBS_INLINE"] = True
    client.post("/v1/events", json=event(occurred_at="2026-05-01T12:00:00Z"), headers=acme.headers)
    with app.app_context():
        ids = list(db.session().scalars(select(Event.id)))
        assert process_events(ids) == 0
    assert last_event_at(app).isoformat() == "2026-05-01T12:00:00+00:00"


def test_a_chunk_takes_its_contacts_earlier_pending_events_so_none_is_judged_late(client, app, acme, monkeypatch):
    """Events of one contact queued for two jobs (two processes, two workers): the job given the later one processes
    the earlier one first, in the same chunk, and the other job finds it done. Without that, the earlier event would
    be late, and the contact's events replayed for the rule."""
    from reengage.detection import rejudge
    from reengage.models import Watch

    replayed: list[int] = []
    replay = rejudge.rejudge
    monkeypatch.setattr(rejudge, "rejudge", lambda rule, contact_id, now: (replayed.append(contact_id),
                                                                            replay(rule, contact_id, now)))
    ids = pending(client, app, acme, {"earlier": ("dana", 1), "later": ("dana", 2), "after": ("dana", 3),
                                      "other": ("lee", 0)})
    with app.app_context():
        assert process_events([ids["later"]]) == 2  # "earlier" with it, not "after", nor another contact's
        assert process_events([ids["earlier"]]) == 0
        assert process_events([ids["after"], ids["other"]]) == 2
        opened = db.session().scalars(select(Watch.match_value).where(Watch.status == "open")).all()
    assert replayed == []
    assert sorted(opened) == ["after", "earlier", "later", "other"]


def test_a_chunk_takes_at_most_a_chunks_worth_of_earlier_events_the_earliest_first(client, app, acme, monkeypatch):
    """However long a contact's backlog queued elsewhere, a chunk takes no more of it than a chunk may hold, so no
    transaction holds SQLite's write lock for a whole backlog."""
    monkeypatch.setattr(event_jobs, "MAX_CHUNK", 2)
    ids = pending(client, app, acme, {f"e{second}": ("dana", second) for second in range(1, 6)})
    with app.app_context():
        assert process_events([ids["e5"]]) == 3  # its own, and the two earliest of the four before it
        assert not db.session().scalar(select(Event.processed_at).where(Event.key == "e3"))
        assert db.session().scalar(select(Event.processed_at).where(Event.key == "e2"))


def test_an_earlier_event_another_chunk_holds_is_left_to_it_on_postgresql(client, app, database_url, acme):
    """On PostgreSQL another process's chunk may have claimed an earlier event of the contact and not yet committed:
    this chunk goes on without it instead of waiting for that chunk (which may be waiting for this one's contacts)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time already")
    ids = pending(client, app, acme, {"earlier": ("dana", 1), "later": ("dana", 2)})
    other = create_engine(database_url)
    with other.begin() as connection:
        connection.execute(text("UPDATE events SET processed_at = now() WHERE id = :id"), {"id": ids["earlier"]})
        with app.app_context():
            db.session().execute(text("SET lock_timeout = '2s'"))  # waiting would fail the test, not hang it
            assert process_events([ids["later"]]) == 1
    other.dispose()


def pending(client, app, acme, events: dict[str, tuple[str, int]]) -> dict[str, int]:
    """Unprocessed application_started events, by key: (the contact's external id, the second of 12:00 it
    happened at); their ids."""
    contacts = {name: client.post("/v1/contacts", json={"external_id": name}, headers=acme.headers).json["id"]
                for name in {name for name, _ in events.values()}}
    with app.app_context(), db.transaction() as session:
        return dict(session.execute(insert(Event).returning(Event.key, Event.id), [
            {"account_id": acme.id, "key": key, "type": "application_started", "contact_id": contacts[name],
             "occurred_at": datetime(2026, 5, 1, 12, 0, second, tzinfo=UTC), "properties": {"application_id": key}}
            for key, (name, second) in events.items()]).all())


def test_older_event_does_not_move_last_event_at_back(client, app, acme):
    client.post("/v1/events", json=event("new", occurred_at="2026-05-02T00:00:00Z"), headers=acme.headers)
    client.post("/v1/events", json=event("old", occurred_at="2026-05-01T00:00:00Z"), headers=acme.headers)
    assert last_event_at(app).isoformat() == "2026-05-02T00:00:00+00:00"


def test_rq_path_runs_the_job_in_a_separate_worker(database_url, make_account, redis_url, tmp_path):
    queue_name = f"test-{uuid.uuid4().hex[:8]}"
    app = create_app(settings(database_url, REDIS_URL=redis_url, RQ_QUEUE=queue_name, JOBS_INLINE=False))
    tenant = make_account()
    response = app.test_client().post("/v1/events", json=event(), headers=tenant.headers)
    assert response.json["status"] == "created"
    assert processed(app) == [False]  # enqueued, not run by the web process

    # The worker builds its own app from the environment, as `rq worker` does in production.
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "test-secret"}
    worker = subprocess.run(
        [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", redis_url, queue_name],
        cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120,
    )
    assert worker.returncode == 0, worker.stderr
    assert processed(app) == [True]
    Redis.from_url(redis_url).delete(f"rq:queue:{queue_name}")


TAKEN: list[list[int]] = []


@job(merge_lists=True, take=2)
def collect(items: list[int]) -> None:
    """A list-taking job that notes each list it is given (importable, so RQ can find it)."""
    TAKEN.append(items)


@job(merge_lists=True, take=10)
def refuse(items: list[int]) -> None:
    """A list-taking job that fails (importable, so RQ can find it)."""
    raise RuntimeError(f"refused {items}")


def test_rq_takes_single_events_in_one_job_and_hands_on_what_a_take_failed_on(database_url, make_account, redis_url):
    queue_name = f"test-{uuid.uuid4().hex[:8]}"
    app = create_app(settings(database_url, REDIS_URL=redis_url, RQ_QUEUE=queue_name, JOBS_INLINE=False))
    tenant = make_account()
    client, connection = app.test_client(), Redis.from_url(redis_url)
    rq_queue = Queue(queue_name, connection=connection)
    try:
        for n in range(5):
            assert client.post("/v1/events", json=event(f"e{n}"), headers=tenant.headers).json["status"] == "created"
        assert rq_queue.count == 1  # one take for the five events
        with app.app_context():
            assert queues.depth()["queued"] == 6  # that take, and the five events waiting for it
            SimpleWorker([rq_queue], connection=connection).work(burst=True)
            assert queues.depth()["queued"] == 0
        assert processed(app) == [True] * 5

        with app.app_context():
            queues.enqueue(refuse, [1, 2])
            queues.enqueue(refuse, [3])
            assert rq_queue.count == 1
            SimpleWorker([rq_queue], connection=connection).work(burst=True)
        assert connection.llen(queues._merged_key(queue_name, refuse)) == 0  # nothing left to hold later takes back
        # The take's items went on as a job of their own, which failed too and waits for RQ's retry.
        [retried] = [Job.fetch(job_id, connection=connection)
                     for job_id in rq_queue.scheduled_job_registry.get_job_ids()]
        assert retried.func_name.endswith(".refuse") and retried.args == ([1, 2, 3],)
    finally:
        connection.delete(*connection.keys(f"*{queue_name}*"))


def test_rq_takes_in_turn_when_more_wait_than_one_take_takes(database_url, redis_url):
    queue_name = f"test-{uuid.uuid4().hex[:8]}"
    app = create_app(settings(database_url, REDIS_URL=redis_url, RQ_QUEUE=queue_name, JOBS_INLINE=False))
    connection = Redis.from_url(redis_url)
    rq_queue = Queue(queue_name, connection=connection)
    TAKEN.clear()
    try:
        with app.app_context():
            for items in ([1, 2, 3], [4], [5]):
                queues.enqueue(collect, items)
            assert rq_queue.count == 1  # one take scheduled for the five
            SimpleWorker([rq_queue], connection=connection).work(burst=True)
        assert TAKEN == [[1, 2], [3, 4], [5]]  # each take queued the next while more waited, in order
        assert connection.llen(queues._merged_key(queue_name, collect)) == 0
    finally:
        connection.delete(*connection.keys(f"*{queue_name}*"))


def test_in_process_queue_merges_calls_that_pile_up(app):
    import threading

    from reengage.jobs import job
    from reengage.platform.queue import InProcessQueue

    calls: list[list[int]] = []
    release = threading.Event()

    @job(merge_lists=True)
    def collect(items: list[int]) -> None:
        calls.append(items)
        release.wait(5)

    queue = InProcessQueue(app, inline=False)
    queue.enqueue(collect, [1])
    wait_until(lambda: calls == [[1]])
    for n in (2, 3, 4):
        queue.enqueue(collect, [n])
    release.set()
    wait_until(lambda: calls == [[1], [2, 3, 4]])


def test_a_merged_job_waits_for_more_items_unless_enough_are_in(app, monkeypatch):
    from reengage.jobs import job
    from reengage.platform import queue as queues

    calls: list[list[int]] = []

    @job(merge_lists=True)
    def collect(items: list[int]) -> None:
        calls.append(items)

    monkeypatch.setattr(queues, "MERGE_WAIT_SECONDS", 30)
    queue = queues.InProcessQueue(app, inline=False)
    for n in range(5):  # single items, as a stream of single events gives
        queue.enqueue(collect, [n])
    time.sleep(0.3)
    assert calls == []  # still waiting for others to join
    queue.enqueue(collect, list(range(5, queues.MERGE_ENOUGH)))
    wait_until(lambda: calls == [list(range(queues.MERGE_ENOUGH))])  # enough: one call, at once
    monkeypatch.setattr(queues, "MERGE_WAIT_SECONDS", 0.01)  # let the queue's thread go
    queue.enqueue(collect, list(range(queues.MERGE_ENOUGH)))
    wait_until(lambda: len(calls) == 2)


def test_events_are_kept_and_answered_when_the_queue_is_down(database_url, make_account, caplog):
    from datetime import timedelta

    from reengage.jobs import clock
    from tests.support.processing import lose_processing

    down = create_app(settings(database_url, REDIS_URL="redis://127.0.0.1:1/0", JOBS_INLINE=False))
    tenant = make_account()
    response = down.test_client().post("/v1/events", json=event(), headers=tenant.headers)
    assert response.status_code == 200 and response.json["status"] == "created"
    assert "the clock will retry" in caplog.text
    assert processed(down) == [False]
    # Later, with the queue back, the clock's sweep finishes the work.
    up = create_app(settings(database_url))
    lose_processing(up, timedelta(minutes=5))
    clock.tick(up)
    assert processed(up) == [True]


def test_a_chunk_holds_its_contacts_until_it_commits_on_postgresql(app, database_url):
    """Another process's chunk with events of the same contacts waits for this one (it would open the same watches
    beside it otherwise); contacts it does not name stay free."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time already")
    other = create_engine(database_url)
    free = text("SELECT pg_try_advisory_xact_lock(7411, :key)")
    with app.app_context(), db.transaction():
        hold_contacts([SimpleNamespace(contact_id=5), SimpleNamespace(contact_id=CONTACT_LOCKS + 9)])
        with other.begin() as connection:
            assert [connection.scalar(free, {"key": key}) for key in (5, 9, 6)] == [False, False, True]
    with other.begin() as connection:
        assert connection.scalar(free, {"key": 5}) is True  # given back at commit
    other.dispose()
