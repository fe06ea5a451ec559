"""Rate limits per account: requests, and events by the event (a batch of N costs N)."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import yaml
from redis import Redis
from sqlalchemy import create_engine

from app import create_app
from reengage.models import Account
from reengage.platform import auth, db
from reengage.web import ratelimit
from tests.support import event, settings
from tests.test_openapi import SPEC_FILE


@pytest.fixture(autouse=True)
def _one_window(rate_clock):
    """Every test here counts within one window, unless it moves on itself."""


def batch(prefix: str, size: int) -> dict:
    return {"events": [event(f"{prefix}-{n}") for n in range(size)]}


def test_an_account_over_its_event_budget_gets_429_while_another_is_served(app, client, acme, globex):
    app.config["EVENT_RATE_LIMIT"] = "5 per minute"
    assert client.post("/v1/events", json=batch("a", 4), headers=acme.headers).status_code == 200
    refused = client.post("/v1/events", json=batch("b", 2), headers=acme.headers)
    assert refused.status_code == 429 and refused.json["error"]["code"] == "rate_limited"
    assert "for events" in refused.json["error"]["message"]
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert client.post("/v1/events", json=event("one"), headers=acme.headers).status_code == 200  # the fifth fits
    assert client.post("/v1/events", json=event("two"), headers=acme.headers).status_code == 429
    assert client.post("/v1/events", json=batch("g", 5), headers=globex.headers).status_code == 200
    assert client.get("/v1/me", headers=acme.headers).status_code == 200  # reading is a request, not an event
    assert client.get("/v1/events", headers=acme.headers).status_code == 200


def test_every_key_of_an_account_shares_its_budget(app, client, acme):
    app.config["RATE_LIMIT"] = "2 per minute"
    with app.app_context(), db.transaction() as db_session:
        _, second = auth.mint_key(db_session, db_session.get(Account, acme.id))
    assert client.get("/v1/me", headers=acme.headers).status_code == 200
    assert client.get("/v1/me", headers={"X-API-Key": second}).status_code == 200
    assert client.get("/v1/me", headers={"X-API-Key": second}).status_code == 429


def test_a_budget_that_no_full_batch_fits_in_is_refused_at_start(database_url):
    with pytest.raises(RuntimeError, match="EVENT_RATE_LIMIT"):
        create_app(settings(database_url, EVENT_RATE_LIMIT="500 per minute"))


@pytest.mark.parametrize("name", ["RATE_LIMIT", "EVENT_RATE_LIMIT"])
def test_a_budget_not_in_the_notation_is_refused_at_start(database_url, name):
    with pytest.raises(RuntimeError, match=f"^{name} must be in limits' notation"):
        create_app(settings(database_url, **{name: "lots per minute"}))


def test_counting_requests_in_process_starts_no_thread(app, client, acme, monkeypatch):
    started = []
    original = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda thread: (started.append(thread.name), original(thread)))
    for _ in range(15):
        assert client.get("/v1/me", headers=acme.headers).status_code == 200
        time.sleep(0.015)  # longer than limits' own expiry timer lives, which then starts anew
    assert started == []


@contextmanager
def writes_held(database_url: str) -> Iterator[None]:
    """Hold the events table's writes from another connection, so intake requests stay in progress."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")
            connection.exec_driver_sql("LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE")
        yield
        connection.rollback()
    engine.dispose()


def test_an_account_past_its_batches_in_progress_gets_429_at_once_while_others_are_served(app, acme, globex):
    app.config["EVENT_BATCH_CONCURRENCY"] = 1
    answers: dict[str, int] = {}

    def post(name: str, tenant, key: str) -> None:
        answers[name] = app.test_client().post("/v1/events", json=batch(key, 60), headers=tenant.headers).status_code

    with writes_held(app.config["DATABASE_URL"]):
        first = threading.Thread(target=post, args=("first", acme, "a-1"))
        first.start()
        time.sleep(0.5)  # the first request is in progress, waiting for the database
        started = time.perf_counter()
        refused = app.test_client().post("/v1/events", json=batch("a-2", 60), headers=acme.headers)
        assert refused.status_code == 429 and refused.json["error"]["code"] == "rate_limited"
        assert refused.headers["Retry-After"] == "1" and time.perf_counter() - started < 0.5
        assert "X-RateLimit-Remaining" not in refused.headers  # refused before any budget was counted
        other = threading.Thread(target=post, args=("other", globex, "g-1"))
        other.start()
        single = threading.Thread(target=lambda: answers.update(single=app.test_client().post(
            "/v1/events", json=event("a-single"), headers=acme.headers).status_code))
        single.start()  # a single event of the same account is not held back by its batches
        time.sleep(0.3)
        assert "other" not in answers and "single" not in answers  # waiting for the database, not refused
    for thread in (first, other, single):
        thread.join(10)
    assert answers == {"first": 200, "other": 200, "single": 200}
    client = app.test_client()
    assert client.post("/v1/events", json=batch("a-2", 60), headers=acme.headers).status_code == 200  # slot free
    assert client.post("/v1/events", json=event("a-2-0"), headers=acme.headers).json["status"] == "replayed"


def test_only_the_api_is_limited_and_counted(app, client, acme):
    app.config["RATE_LIMIT"] = "2 per minute"
    for _ in range(4):  # health checks, the API's description and the pages count against nothing
        for path in ("/livez", "/openapi.json", "/dashboard/sign-in"):
            answer = client.get(path, headers=acme.headers)
            assert answer.status_code == 200 and "X-RateLimit-Limit" not in answer.headers, path
    first = client.get("/v1/me", headers=acme.headers)
    assert first.headers["X-RateLimit-Limit"] == "2" and first.headers["X-RateLimit-Remaining"] == "1"
    assert client.get("/v1/me", headers=acme.headers).status_code == 200
    assert client.get("/v1/me", headers=acme.headers).status_code == 429
    assert client.get("/livez", headers=acme.headers).status_code == 200


def test_the_request_budget_counts_every_api_route_together(app, client, acme, rate_clock):
    app.config["RATE_LIMIT"] = "3 per minute"
    answers = [client.get("/v1/me", headers=acme.headers), client.get("/v1/events", headers=acme.headers),
               client.post("/v1/events", json=event("one"), headers=acme.headers)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [answer.headers["X-RateLimit-Remaining"] for answer in answers] == ["2", "1", "0"]
    assert all(answer.headers["X-RateLimit-Limit"] == "3" and "Retry-After" not in answer.headers
               for answer in answers)
    refused = client.get("/v1/dropoffs", headers=acme.headers)
    assert refused.status_code == 429 and refused.json["error"]["code"] == "rate_limited"
    assert "3 per minute" in refused.json["error"]["message"]
    assert 0 < int(refused.headers["Retry-After"]) <= 60 and refused.headers["X-RateLimit-Remaining"] == "0"
    documented = yaml.safe_load(SPEC_FILE.read_text())["components"]["responses"]["RateLimited"]["headers"]
    assert set(documented) <= set(refused.headers.keys())
    reset = int(refused.headers["X-RateLimit-Reset"])  # windows start on the clock: this one ends on a minute
    assert reset % 60 == 0 and 0 < reset - rate_clock() <= 60


def test_a_spent_budget_is_whole_again_in_the_next_window(app, client, acme, globex, rate_clock):
    app.config["RATE_LIMIT"] = "2 per minute"
    app.config["EVENT_RATE_LIMIT"] = "1000 per minute"
    assert client.post("/v1/events", json=batch("a", 1000), headers=acme.headers).status_code == 200
    assert [client.get("/v1/me", headers=acme.headers).status_code for _ in range(2)] == [200, 429]
    assert client.get("/v1/me", headers=globex.headers).status_code == 200  # another account's budget is its own
    rate_clock.next_window()
    answer = client.post("/v1/events", json=batch("b", 1000), headers=acme.headers)
    assert answer.status_code == 200 and answer.headers["X-RateLimit-Remaining"] == "1"


def test_a_refused_batch_shows_the_events_budget_and_costs_nothing(app, client, acme):
    app.config["EVENT_RATE_LIMIT"] = "1000 per minute"
    assert client.post("/v1/events", json=batch("a", 998), headers=acme.headers).status_code == 200
    refused = client.post("/v1/events", json=batch("b", 3), headers=acme.headers)
    assert refused.status_code == 429 and "1000 per minute for events" in refused.json["error"]["message"]
    assert refused.headers["X-RateLimit-Limit"] == "1000" and refused.headers["X-RateLimit-Remaining"] == "2"
    assert client.post("/v1/events", json=batch("c", 2), headers=acme.headers).status_code == 200


def test_budgets_kept_in_redis_are_shared_by_every_process(app, acme, redis_url):
    store = Redis.from_url(redis_url)
    for key in store.scan_iter(f"*{ratelimit.NAMESPACE}*"):  # an earlier run's counts of the same account id
        store.delete(key)
    one, two = (create_app(settings(app.config["DATABASE_URL"], REDIS_URL=redis_url, RATE_LIMIT="3 per minute"))
                for _ in range(2))
    answers = [process.test_client().get("/v1/me", headers=acme.headers) for process in (one, two, one, two)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]


def test_a_redis_outage_lets_requests_through(app, acme):
    unreachable = create_app(settings(app.config["DATABASE_URL"], REDIS_URL="redis://127.0.0.1:1/0",
                                      RATE_LIMIT="1 per minute"))
    client = unreachable.test_client()
    answers = [client.get("/v1/me", headers=acme.headers) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert not any("X-RateLimit-Remaining" in answer.headers for answer in answers)  # nothing was counted
