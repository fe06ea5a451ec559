"""Living with the database: restarts and write contention."""

import fcntl
import os
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from reengage.platform import db
from reengage.platform.db import WriteLock
from tests.support import event


def test_lost_connections_cost_one_retryable_request(app, client, acme, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("connections are dropped by a PostgreSQL server")
    assert client.get("/v1/events", headers=acme.headers).status_code == 200
    admin = create_engine(database_url)
    with admin.begin() as connection:  # as a server restart would: every connection to this database goes
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    admin.dispose()
    # The rate limit's account lookup may meet the dead connection first (the limiter then lets the request
    # through and the pool reconnects), so the first request is answered, or refused as retryable: never a 500.
    first = client.get("/v1/events", headers=acme.headers)
    assert first.status_code == 200 or (first.status_code == 503 and first.headers["Retry-After"])
    assert client.get("/v1/events", headers=acme.headers).status_code == 200


def test_concurrent_writers_all_land(app, acme):
    """Many threads posting at once (one process's group commit) each get their own answer."""
    answers: dict[int, dict] = {}

    def post(n: int) -> None:
        body = event(f"e{n}", contact={"external_id": f"u{n % 3}"})
        answers[n] = app.test_client().post("/v1/events", json=body, headers=acme.headers).json

    threads = [threading.Thread(target=post, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == list(range(24))
    assert all(answer["status"] == "created" and answer["id"] == f"e{n}" for n, answer in answers.items())
    listed = app.test_client().get("/v1/events?limit=100", headers=acme.headers).json
    assert len(listed) == 24 and len({e["contact_id"] for e in listed}) == 3


def test_a_bad_request_does_not_fail_others_in_its_group(app, acme):
    """One request's contact conflict is its own 409; its group-mates are stored."""
    client = app.test_client()
    client.post("/v1/contacts", json={"external_id": "taken", "email": "taken@example.com"}, headers=acme.headers)
    statuses: dict[int, int] = {}

    def post(n: int) -> None:
        contact = {"external_id": "other", "email": "taken@example.com"} if n == 0 else {"external_id": f"u{n}"}
        response = app.test_client().post("/v1/events", json=event(f"e{n}", contact=contact), headers=acme.headers)
        statuses[n] = response.status_code

    threads = [threading.Thread(target=post, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses[0] == 409
    assert all(statuses[n] == 200 for n in range(1, 12))
    assert len(client.get("/v1/events?limit=100", headers=acme.headers).json) == 11


def test_a_failed_group_is_split_and_each_request_answered_alone(app, acme):
    from reengage.intake import ingest
    from reengage.intake.group_commit import Submission
    from reengage.platform.errors import ApiError

    client = app.test_client()
    client.post("/v1/contacts", json={"external_id": "taken", "email": "taken@example.com"}, headers=acme.headers)
    def submission(body):
        return Submission(ingest.Batch(acme.id, ingest.parse(body)[0], ""), 1)

    good = [submission(event(f"ok{n}")) for n in range(2)]
    bad = submission(event("clash", contact={"external_id": "x", "email": "taken@example.com"}))
    committer = app.extensions["intake"]
    committer._pending.extend([good[0], bad, good[1]])  # as three requests waiting for a leader
    with app.test_request_context():
        committer.write(small=True)
    assert isinstance(bad.error, ApiError) and bad.error.status == 409
    assert [s.result[0]["status"] for s in good] == ["created", "created"]
    assert all(s.finished for s in (*good, bad))
    assert {e["id"] for e in client.get("/v1/events", headers=acme.headers).json} == {"ok0", "ok1"}


def test_an_urgent_writer_of_another_process_goes_before_the_next_chunk_of_a_bulk_writer(tmp_path):
    path = str(tmp_path / "db.write-lock")
    bulk, other = WriteLock(path), WriteLock(path)  # two processes' locks: separate descriptors
    order: list[str] = []

    def urgent_is_queued() -> bool:
        probe = os.open(f"{path}.urgent", os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(probe)

    def single() -> None:
        with other.hold(urgent=True):
            order.append("single")

    thread = threading.Thread(target=single)
    with bulk.hold():
        order.append("chunk 1")
        thread.start()
        for _ in range(5000):  # until the single event waits for the lock
            if urgent_is_queued():
                break
            thread.join(0.001)
    with bulk.hold():  # the next chunk, asked for at once
        order.append("chunk 2")
    thread.join(5)
    assert order == ["chunk 1", "single", "chunk 2"]


def test_a_nested_hold_keeps_the_lock_until_the_outer_one_ends(tmp_path):
    path = str(tmp_path / "db.write-lock")
    lock = WriteLock(path)
    probe = os.open(path, os.O_RDWR | os.O_CREAT)
    with lock.hold():
        with lock.hold(urgent=True):
            pass
        try:
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            taken = True
        except BlockingIOError:
            taken = False
    os.close(probe)
    assert not taken


def test_reads_side_by_side_each_have_a_session_of_their_own_and_the_callers_moment(app):
    moment = datetime(2031, 5, 4, 3, 2, 1, tzinfo=UTC)
    started = threading.Barrier(2, timeout=10)

    def read(name: str):
        def run():
            started.wait()  # both at once: SIDE_BY_SIDE reads run together
            return name, id(db.session()), threading.get_ident(), db.utcnow(), db.session().scalar(text("SELECT 1"))
        return run

    with app.app_context(), db.as_of(moment):
        mine = id(db.session())
        read_back = db.reads_side_by_side({"one": read("one"), "two": read("two")})
    assert [row[0] for row in read_back.values()] == ["one", "two"]
    assert len({row[1] for row in read_back.values()} | {mine}) == 3
    assert len({row[2] for row in read_back.values()}) == 2
    assert all(row[3] == moment and row[4] == 1 for row in read_back.values())


def test_a_read_side_by_side_that_fails_fails_the_caller(app):
    def broken():
        raise LookupError("no such figure")

    with app.app_context(), pytest.raises(LookupError, match="no such figure"):
        db.reads_side_by_side({"fine": lambda: 1, "broken": broken})


def test_a_single_read_hands_its_connection_back_to_transactions_that_still_roll_back(app):
    """On PostgreSQL the read goes outside a transaction; the pooled connection it used must not carry that into the
    next write transaction, which would then keep whatever it wrote before failing."""
    with app.app_context():
        db.engine().dispose()  # the pool then holds only the connection the read opens
        with db.single_read() as connection:
            read_on = connection.connection.dbapi_connection
            assert connection.execute(text("SELECT 1")).scalar() == 1
            if connection.dialect.name == "postgresql":
                assert read_on.autocommit
        with pytest.raises(RuntimeError), db.transaction() as session:
            assert session.connection().connection.dbapi_connection is read_on
            session.execute(text("INSERT INTO accounts (name, created_at) VALUES ('Half-written', CURRENT_TIMESTAMP)"))
            raise RuntimeError("failed halfway")
        assert db.session().scalar(text("SELECT count(*) FROM accounts WHERE name = 'Half-written'")) == 0
