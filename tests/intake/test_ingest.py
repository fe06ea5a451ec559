"""A large batch is written in chunks, one transaction each: others get in between, and a failure is retried whole."""

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from reengage.intake import ingest
from reengage.models import Contact, Event
from reengage.platform import busy, db
from tests.support import event


def batch(count: int, prefix: str = "big") -> dict:
    return {"events": [event(f"{prefix}-{n}", contact={"external_id": f"u{n % 7}"}) for n in range(count)]}


@pytest.fixture
def chunks_of_100(monkeypatch):
    """Chunks of 100 events, so that batches of several chunks stay within a request's limit."""
    monkeypatch.setattr(ingest, "CHUNK_EVENTS", 100)


def recording(monkeypatch) -> tuple[list, list]:
    """The groups each transaction of intake stored, as (account, events) pairs; the batches matched whole first."""
    store, check, transactions, checked = ingest._store, ingest.check_contacts, [], []

    def recording_store(group, connection):
        transactions.append([(work.account_id, len(work.events)) for work in group])
        return store(group, connection)

    def recording_check(account_id, events, path):
        checked.append(len(events))
        return check(account_id, events, path)

    monkeypatch.setattr(ingest, "_store", recording_store)
    monkeypatch.setattr(ingest, "check_contacts", recording_check)
    return transactions, checked


def test_a_batch_of_500_is_written_in_one_transaction_and_matched_once(client, acme, monkeypatch):
    """With no light request about (a bulk import), as a batch of 500 took five transactions, and matching twice."""
    monkeypatch.setattr(busy, "RECENT_SECONDS", 0.0)
    transactions, checked = recording(monkeypatch)
    response = client.post("/v1/events", json=batch(500), headers=acme.headers)
    assert response.status_code == 200
    assert transactions == [[(acme.id, 500)]]
    assert checked == []
    assert [r["status"] for r in response.json["events"]] == ["created"] * 500


def test_while_light_requests_come_in_a_batch_is_matched_whole_then_written_in_short_chunks(app, client, acme,
                                                                                          globex, monkeypatch):
    monkeypatch.setattr(busy, "RECENT_SECONDS", 60.0)
    assert client.post("/v1/events", json=event("light"), headers=globex.headers).status_code == 200
    transactions, checked = recording(monkeypatch)
    size = ingest.WHOLE_EVENTS + 2 * ingest.SHORT_CHUNK_EVENTS + 5  # more than is ever written whole
    response = client.post("/v1/events", json=batch(size), headers=acme.headers)
    assert response.status_code == 200
    with app.app_context():
        one_writer = db.one_writer()
    if one_writer:  # SQLite: its write lock is held in short turns
        short = ingest.SHORT_CHUNK_EVENTS
        parts = [short] * (size // short) + [size % short]
        assert (transactions, checked) == ([[(acme.id, part)] for part in parts], [size])
    else:
        assert (transactions, checked) == ([[(acme.id, size)]], [])


def stored(app) -> tuple[int, int]:
    """How many events are stored, and how many of them are processed."""
    with app.app_context():
        total = db.session().scalar(select(func.count()).select_from(Event))
        processed = db.session().scalar(select(func.count()).select_from(Event).where(Event.processed_at.isnot(None)))
        return total, processed


def test_a_single_event_is_written_between_the_chunks_of_a_large_batch(app, client, acme, globex, monkeypatch,
                                                                          chunks_of_100):
    """And on SQLite, once it came, the rest of the batch holds the write lock in shorter turns."""
    monkeypatch.setattr(busy, "RECENT_SECONDS", 60.0)
    store, transactions = ingest._store, []
    single_queued = threading.Event()
    answers = {}

    def post_single() -> None:
        answers["single"] = app.test_client().post("/v1/events", json=event("alone"), headers=globex.headers)

    def recording_store(group, connection):
        if not transactions:
            # While the batch's first chunk is being written, another account posts a single event.
            threading.Thread(target=post_single).start()
            group_commit = app.extensions["intake"]
            for _ in range(500):
                with group_commit._lock:
                    if group_commit._pending:
                        single_queued.set()
                        break
                single_queued.wait(0.01)
        transactions.append([(work.account_id, len(work.events)) for work in group])
        return store(group, connection)

    monkeypatch.setattr(ingest, "_store", recording_store)
    response = client.post("/v1/events", json=batch(3 * ingest.CHUNK_EVENTS), headers=acme.headers)
    assert response.status_code == 200
    assert single_queued.is_set()
    chunk = (acme.id, ingest.CHUNK_EVENTS)
    with app.app_context():
        one_writer = db.one_writer()
    after = [[(acme.id, ingest.SHORT_CHUNK_EVENTS)]] * (2 * ingest.CHUNK_EVENTS // ingest.SHORT_CHUNK_EVENTS)
    assert transactions == [[chunk], [(globex.id, 1)], *(after if one_writer else [[chunk], [chunk]])]
    assert answers["single"].json["status"] == "created"
    assert [r["status"] for r in response.json["events"]] == ["created"] * 3 * ingest.CHUNK_EVENTS


def test_a_batch_whose_later_chunk_fails_is_refused_and_its_retry_stores_it_whole_once(app, client, acme,
                                                                                        monkeypatch, chunks_of_100):
    store, calls = ingest._store, []

    def failing_store(group, connection):
        calls.append(len(group))
        if len(calls) == 3:
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        return store(group, connection)

    monkeypatch.setattr(ingest, "_store", failing_store)
    body = batch(3 * ingest.CHUNK_EVENTS + 5)
    response = client.post("/v1/events", json=body, headers=acme.headers)
    assert response.status_code == 503
    assert "Retry-After" in response.headers
    assert response.json["error"]["details"] == {"stored": 2 * ingest.CHUNK_EVENTS}
    assert stored(app) == (2 * ingest.CHUNK_EVENTS, 2 * ingest.CHUNK_EVENTS)

    again = client.post("/v1/events", json=body, headers=acme.headers)
    assert again.status_code == 200
    statuses = [r["status"] for r in again.json["events"]]
    assert statuses == ["replayed"] * 2 * ingest.CHUNK_EVENTS + ["created"] * (ingest.CHUNK_EVENTS + 5)
    assert stored(app) == (len(body["events"]), len(body["events"]))


def test_a_conflict_in_a_later_chunk_refuses_the_whole_batch_before_any_chunk_is_stored(app, client, acme,
                                                                                        chunks_of_100):
    client.post("/v1/events", json=event("x", contact={"external_id": "u-1", "email": "one@example.com"}),
                headers=acme.headers)
    body = batch(2 * ingest.CHUNK_EVENTS)
    clash = ingest.CHUNK_EVENTS + 20
    body["events"][clash]["contact"] = {"external_id": "u-2", "email": "one@example.com"}
    response = client.post("/v1/events", json=body, headers=acme.headers)
    assert response.status_code == 409
    assert response.json["error"]["details"]["fields"][0]["field"] == f"events[{clash}].contact.email"
    assert stored(app)[0] == 1


def test_a_replay_inside_a_batch_across_its_chunks_is_stored_once(client, acme, chunks_of_100):
    body = batch(ingest.CHUNK_EVENTS + 10)
    body["events"].append(dict(body["events"][3]))
    results = client.post("/v1/events", json=body, headers=acme.headers).json["events"]
    assert results[-1] == {**results[3], "status": "replayed"}
    assert sum(r["status"] == "created" for r in results) == ingest.CHUNK_EVENTS + 10


def test_an_event_without_its_time_takes_the_moment_it_is_stored_in_the_order_stored(app, client, acme):
    """Stored in key order within a transaction, each takes the moment of its writing: the order events are stored
    (and processed) in is the order they happened in, so none is processed after one that happened later."""
    body = {"events": [event(f"k{n}") for n in (3, 1, 2)]}
    assert client.post("/v1/events", json=body, headers=acme.headers).status_code == 200
    with app.app_context():
        rows = db.session().execute(select(Event.key, Event.occurred_at, Event.received_at).order_by(Event.id)).all()
    assert [row.key for row in rows] == ["k1", "k2", "k3"]
    assert all(row.occurred_at == row.received_at for row in rows)
    assert [row.occurred_at for row in rows] == sorted(row.occurred_at for row in rows)


def test_a_write_that_fails_part_way_leaves_nothing_behind(app, client, acme, monkeypatch):
    """The contact and the event were written when the transaction failed: neither stays, and the event posted again
    is stored once."""
    store = ingest._store

    def failing_after_writing(group, connection):
        store(group, connection)
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(ingest, "_store", failing_after_writing)
    body = event("half", contact={"external_id": "new-person", "email": "new@example.com"})
    refused = client.post("/v1/events", json=body, headers=acme.headers)
    assert refused.status_code == 503 and refused.json["error"]["code"] == "unavailable"
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Event)) == 0
        assert db.session().scalar(select(func.count()).select_from(Contact)) == 0
    monkeypatch.setattr(ingest, "_store", store)
    again = client.post("/v1/events", json=body, headers=acme.headers)
    assert again.status_code == 200 and again.json["status"] == "created"
    assert stored(app) == (1, 1)


def test_an_events_contact_is_matched_by_each_identifier_within_its_own_account_only(client, acme, globex):
    """Contacts are looked up by (account, value) pairs (on PostgreSQL one unique-index lookup a pair): the same
    HubSpot id, email or external id in another account is another contact, and an event replayed keeps its own."""
    def post(tenant, key: str, **contact) -> dict:
        response = client.post("/v1/events", json={"events": [event(key, contact=contact)]}, headers=tenant.headers)
        assert response.status_code == 200
        return response.json["events"][0]

    ours = post(acme, "a1", hubspot_id="77", email="dana@example.com", external_id="u-1")
    theirs = post(globex, "g1", hubspot_id="77", email="dana@example.com", external_id="u-1")
    assert theirs["contact_id"] != ours["contact_id"]
    for key, contact in (("a2", {"hubspot_id": "77"}), ("a3", {"email": "dana@example.com"}),
                         ("a4", {"external_id": "u-1"})):
        assert post(acme, key, **contact)["contact_id"] == ours["contact_id"]
    assert post(globex, "g2", hubspot_id="77")["contact_id"] == theirs["contact_id"]
    assert post(acme, "g1", hubspot_id="77")["status"] == "created"  # globex's key is not acme's
    assert post(acme, "a1", hubspot_id="77") == {**ours, "status": "replayed"}
