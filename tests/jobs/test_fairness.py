"""Accounts take turns: one account's backlog of events, watches or messages does not delay another's."""

import time
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import event as sa_event
from sqlalchemy import select, update

from reengage.jobs import clock
from reengage.jobs import events as event_jobs
from reengage.models import Event
from reengage.platform import db
from tests.support import event
from tests.support.journeys import RecordingQueue, T, abandon, messages, setup_sales, tick
from tests.support.processing import lose_processing


def unprocessed(app, tenant) -> int:
    with app.app_context():
        query = select(Event.id).where(Event.account_id == tenant.id, Event.processed_at.is_(None))
        return len(db.session().scalars(query).all())


def contact(name: str) -> dict:
    return {"external_id": name, "email": f"{name}@example.com", "first_name": name.title()}


def test_a_backlog_of_events_is_processed_in_rounds_behind_another_accounts_event(app, client, acme, globex,
                                                                                   monkeypatch):
    monkeypatch.setattr(event_jobs, "ROUND_EVENTS", 5)
    held = RecordingQueue()
    original, app.extensions["queue"] = app.extensions["queue"], held
    try:
        # A contact each: a chunk also takes its contacts' earlier pending events (reengage.jobs.events EARLIER).
        batch = {"events": [event(f"a-{n}", contact=contact(f"a{n}")) for n in range(12)]}
        assert client.post("/v1/events", json=batch, headers=acme.headers).status_code == 200
        assert client.post("/v1/events", json=event("g-1"), headers=globex.headers).status_code == 200
        # A worker takes jobs in the order they were queued: first the batch's, then the single event's.
        first, second = held.jobs
        held.jobs = [first]
        held.run(app, db.utcnow())
        assert unprocessed(app, acme) == 7  # one round done, the rest queued again ...
        held.jobs.insert(0, second)  # ... behind the job that was already waiting
        func, args = held.jobs.pop(0)
        with app.app_context():
            func(*args)
        assert unprocessed(app, globex) == 0 and unprocessed(app, acme) == 7
        while held.jobs:
            held.run(app, db.utcnow())
    finally:
        app.extensions["queue"] = original
    assert unprocessed(app, acme) == 0


def test_one_round_takes_every_accounts_events_in_turns(app, client, acme, globex, monkeypatch):
    monkeypatch.setattr(event_jobs, "ROUND_EVENTS", 4)
    held = RecordingQueue()
    original, app.extensions["queue"] = app.extensions["queue"], held
    try:
        # A contact each, as above.
        client.post("/v1/events", json={"events": [event(f"a-{n}", contact=contact(f"a{n}")) for n in range(10)]},
                    headers=acme.headers)
        client.post("/v1/events", json=event("g-1"), headers=globex.headers)
        merged = [event_id for _, args in held.jobs for event_id in args[0]]  # as the embedded queue merges them
        held.jobs.clear()
        with app.app_context():
            assert event_jobs.process_events(merged) == 4
    finally:
        app.extensions["queue"] = original
    assert unprocessed(app, globex) == 0 and unprocessed(app, acme) == 7


def test_the_clock_sweep_takes_turns_between_accounts(app, client, acme, globex, monkeypatch):
    # A contact each, as above: events of one contact stored in the same microsecond are taken together.
    client.post("/v1/events", json={"events": [event(f"a-{n}", contact=contact(f"a{n}")) for n in range(6)]},
                headers=acme.headers)
    client.post("/v1/events", json=event("g-1"), headers=globex.headers)
    lose_processing(app, timedelta(minutes=10))
    with app.app_context(), db.transaction() as db_session:  # the other account's event came later
        db_session.execute(update(Event).where(Event.account_id == globex.id)
                           .values(received_at=db.utcnow() - timedelta(minutes=5)))
    monkeypatch.setattr(clock, "BATCH", 3)
    assert clock.tick(app)["requeue_unprocessed_events"] == 3
    assert unprocessed(app, globex) == 0 and unprocessed(app, acme) == 4


def test_the_clock_raises_a_second_accounts_dropoff_while_the_first_has_a_backlog(app, client, acme, globex,
                                                                                   monkeypatch):
    for tenant in (acme, globex):
        setup_sales(client, tenant)
    for n in range(3):
        body = event(f"s{n}", type="application_started", occurred_at=T.isoformat(), contact=contact(f"a{n}"))
        assert client.post("/v1/events", json=body, headers=acme.headers).status_code == 200
    later = event("s1", type="application_started", occurred_at=(T + timedelta(hours=1)).isoformat(),
                  contact=contact("g1"))
    assert client.post("/v1/events", json=later, headers=globex.headers).status_code == 200
    monkeypatch.setattr(clock, "BATCH", 2)
    tick(app, T + timedelta(hours=26))
    assert len(client.get("/v1/dropoffs", headers=globex.headers).json) == 1
    assert len(client.get("/v1/dropoffs", headers=acme.headers).json) == 1


def test_the_clock_sends_a_second_accounts_due_message_while_the_first_has_a_backlog(app, client, acme, globex,
                                                                                    monkeypatch):
    for tenant in (acme, globex):
        setup_sales(client, tenant)
    backlog = [abandon(app, client, acme, contact(f"a{n}"), key=f"s{n}") for n in range(3)]
    other = abandon(app, client, globex, contact("g1"), key="s1", at=T + timedelta(hours=1))
    first_due = datetime.fromisoformat(messages(client, globex, other["id"])["1.pick-up"]["due_at"])
    monkeypatch.setattr(clock, "MAX_MESSAGES_PER_TICK", 2)
    tick(app, first_due + timedelta(minutes=1))
    assert messages(client, globex, other["id"])["1.pick-up"]["status"] != "scheduled"
    waiting = [messages(client, acme, enrollment["id"])["1.pick-up"]["status"] for enrollment in backlog]
    assert waiting.count("scheduled") == 2


def claims_of_one_round(app, client, acme, globex) -> list[str]:
    """Thirty events of acme's and three of globex's (a contact each), processed in one job: its claims."""
    held = RecordingQueue()
    original, app.extensions["queue"] = app.extensions["queue"], held
    try:
        client.post("/v1/events", json={"events": [event(f"a-{n}", contact=contact(f"a{n}")) for n in range(30)]},
                    headers=acme.headers)
        client.post("/v1/events", json={"events": [event(f"g-{n}", contact=contact(f"g{n}")) for n in range(3)]},
                    headers=globex.headers)
        merged = [event_id for _, args in held.jobs for event_id in args[0]]
        held.jobs.clear()
        claims: list[str] = []
        with app.app_context():
            engine = db.engine()

            def count(_conn, _cursor, statement, parameters, _context, _many) -> None:
                if statement.lstrip().upper().startswith("UPDATE EVENTS"):
                    claims.append(statement)

            sa_event.listen(engine, "before_cursor_execute", count)
            try:
                assert event_jobs.process_events(merged) == 33
            finally:
                sa_event.remove(engine, "before_cursor_execute", count)
    finally:
        app.extensions["queue"] = original
    assert unprocessed(app, acme) == unprocessed(app, globex) == 0
    return claims


def test_a_round_is_claimed_in_chunks_one_transaction_each_taking_turns(app, client, acme, globex, monkeypatch):
    monkeypatch.setattr(event_jobs, "CHUNK_SECONDS", 0.0)  # every chunk after the first takes one event
    claims = claims_of_one_round(app, client, acme, globex)
    # The first chunk, then one event a transaction (each claim its own transaction).
    assert len(claims) == 1 + (33 - event_jobs.FIRST_CHUNK)


def test_a_chunk_is_sized_by_the_time_it_held_the_database_not_by_its_wait_for_a_turn(app, client, acme, globex,
                                                                                      monkeypatch):
    """Under a stream of requests each chunk waits for its turn; sized by that wait, chunks shrank to a few events,
    each paying a chunk's fixed cost."""

    class Clock:
        """The clock as the job reads it: every turn among bulk work takes a second of it."""

        waited = 0.0

        def perf_counter(self) -> float:
            return time.perf_counter() + self.waited

        sleep = staticmethod(time.sleep)

    job_clock = Clock()

    @contextmanager
    def slow_turn():
        job_clock.waited += 1.0
        yield

    monkeypatch.setattr(event_jobs, "CHUNK_SECONDS", 0.5)
    monkeypatch.setattr(event_jobs, "time", job_clock)
    monkeypatch.setattr(event_jobs.busy, "bulk", slow_turn)
    claims = claims_of_one_round(app, client, acme, globex)
    # The first chunk, then the other 23 at once: ten events take far less than half a second to process. Sized by
    # the second each waited, the second chunk would have held four events.
    assert len(claims) == 2


def test_processing_holds_sqlite_in_shorter_turns_while_light_requests_come_in(app, client, acme, globex,
                                                                               monkeypatch):
    """The round's events were posted just before it (light requests): on SQLite its chunks are sized by the short
    target then (here nothing: one event a chunk after the first), on PostgreSQL by the usual one."""
    monkeypatch.setattr(event_jobs.busy, "RECENT_SECONDS", 60.0)
    monkeypatch.setattr(event_jobs, "CHUNK_SECONDS", 0.5)
    monkeypatch.setattr(event_jobs, "SHORT_CHUNK_SECONDS", 0.0)
    claims = claims_of_one_round(app, client, acme, globex)
    with app.app_context():
        one_writer = db.one_writer()
    assert len(claims) == (1 + (33 - event_jobs.FIRST_CHUNK) if one_writer else 2)
