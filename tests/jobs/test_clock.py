"""The clock hands due work to jobs; here, events whose processing was lost."""

from datetime import timedelta

from sqlalchemy import exists, select, text, update

from reengage.jobs import clock
from reengage.models import Event, Message
from reengage.platform import db
from tests.support import event
from tests.support.journeys import DANA, T, abandon, messages, setup_sales
from tests.support.processing import lose_processing


def pending(app) -> int:
    with app.app_context():
        return len(db.session().scalars(select(Event.id).where(Event.processed_at.is_(None))).all())


def test_tick_requeues_events_whose_job_was_lost(client, app, acme):
    client.post("/v1/events", json={"events": [event("a"), event("b")]}, headers=acme.headers)
    lose_processing(app, timedelta(minutes=5))
    assert pending(app) == 2
    assert clock.tick(app)["requeue_unprocessed_events"] == 2
    assert pending(app) == 0
    assert clock.tick(app)["requeue_unprocessed_events"] == 0


def test_tick_leaves_recent_events_to_their_own_job(client, app, acme):
    client.post("/v1/events", json=event(), headers=acme.headers)
    lose_processing(app, timedelta(seconds=5))
    assert clock.tick(app)["requeue_unprocessed_events"] == 0
    assert pending(app) == 1


def test_a_failing_task_does_not_stop_the_others(app, monkeypatch, caplog):
    def broken(_at) -> int:
        raise RuntimeError("task broke")

    monkeypatch.setattr(clock, "TASKS", (broken, clock.requeue_unprocessed_events))
    assert clock.tick(app) == {"requeue_unprocessed_events": 0}
    assert "task broke" in caplog.text


def test_clock_thread_stops_when_told(app):
    import threading

    app.config["CLOCK_INTERVAL_SECONDS"] = 0.01
    stop = clock.start_thread(app)
    stop.set()
    # Its tick under way ends, then the thread (before the database is emptied for the next test).
    for thread in threading.enumerate():
        if thread.name == "clock":
            thread.join(timeout=30)
    assert not [thread for thread in threading.enumerate() if thread.name == "clock"]


def test_sweeps_do_not_pile_up_in_redis_while_workers_are_down(database_url, make_account, redis_url):
    import uuid

    from redis import Redis

    from app import create_app
    from tests.support import settings

    queue_name = f"test-{uuid.uuid4().hex[:8]}"
    app = create_app(settings(database_url, REDIS_URL=redis_url, RQ_QUEUE=queue_name, JOBS_INLINE=False))
    tenant = make_account()
    app.test_client().post("/v1/events", json=event(), headers=tenant.headers)
    lose_processing(app, timedelta(minutes=5))
    connection = Redis.from_url(redis_url)
    connection.delete("rq:job:clock-requeue-unprocessed-events")
    try:
        for _ in range(3):
            clock.tick(app)
        waiting = connection.lrange(f"rq:queue:{queue_name}", 0, -1)
        # One job from intake, one from the clock, however many ticks went by.
        assert waiting.count(b"clock-requeue-unprocessed-events") == 1 and len(waiting) == 2
    finally:
        connection.delete(f"rq:queue:{queue_name}", "rq:job:clock-requeue-unprocessed-events")


def statements_of(app, run) -> list[str]:
    """The SQL statements `run()` sends to the database."""
    from sqlalchemy import event as sql_event

    sent: list[str] = []

    def count(_conn, _cursor, statement, _parameters, _context, _many) -> None:
        sent.append(statement)

    with app.app_context():
        engine = db.engine()
    sql_event.listen(engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        sql_event.remove(engine, "before_cursor_execute", count)
    return sent


def test_an_idle_tick_asks_once_which_tasks_have_work(app):
    clock.tick(app)
    sent = statements_of(app, lambda: clock.tick(app))
    # One question for every task, then the tick's own record (each in a transaction of its own).
    verbs = [statement.split()[0].upper() for statement in sent]
    assert [verb for verb in verbs if verb not in ("BEGIN", "COMMIT")] == ["SELECT", "INSERT"]


def test_tasks_run_when_asking_which_have_work_fails(client, app, acme, monkeypatch, caplog):
    client.post("/v1/events", json=event("a"), headers=acme.headers)
    lose_processing(app, timedelta(minutes=5))

    # A condition the database cannot answer.
    monkeypatch.setitem(clock.MAY_HAVE_WORK, clock.expire_watches, exists().where(text("no_such_column = 1")))
    assert clock.tick(app)["requeue_unprocessed_events"] == 1
    assert "running them all" in caplog.text


def test_the_question_finds_a_stalled_message_from_its_own_states_limit_on(app, client, acme):
    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, DANA)
    message_id = messages(client, acme, enrollment["id"])["1.pick-up"]["id"]
    # Queued and never taken: stalled after MESSAGE_REQUEUE_AFTER_SECONDS; cut off mid-send: after the timeout.
    limits = {"queued": "MESSAGE_REQUEUE_AFTER_SECONDS", "sending": "MESSAGE_SENDING_TIMEOUT_SECONDS"}
    for status, setting in limits.items():
        with app.app_context(), db.transaction() as db_session:
            db_session.execute(update(Message).where(Message.id == message_id).values(status=status, queued_at=T))
        limit = timedelta(seconds=app.config[setting])
        for at, stalled in ((T + limit - timedelta(seconds=1), False), (T + limit + timedelta(seconds=1), True)):
            with app.app_context():
                asked = clock.with_work(at, (clock.requeue_stalled_messages,))
            assert (clock.requeue_stalled_messages in asked) is stalled, (status, at)
