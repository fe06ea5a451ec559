"""Maintenance dropoffs wait on Atomic's Company Search, looked up with a growing wait until it says operational."""

from datetime import datetime, timedelta

import pytest

from reengage.jobs import clock
from tests.fakes.atomic import FakeAtomic
from tests.support.detection import dropoffs, send, tick

MAINTENANCE = {"company": {"_id": "c-1", "name": "Acme Payroll"}}
KEYS = {"api_key": "atomic-key-123", "api_secret": "atomic-secret-456"}


@pytest.fixture
def atomic(app):
    fake = FakeAtomic(KEYS["api_key"], KEYS["api_secret"])
    fake.companies["Acme Payroll"] = "under-maintenance"
    app.config["ATOMIC_API_URL"] = fake.url
    yield fake
    fake.close()


def connect(client, tenant, atomic, **settings):
    answer = client.put("/v1/connections/atomic", json={**KEYS, **settings}, headers=tenant.headers)
    assert answer.status_code == 200, answer.json
    return answer.json


def test_the_connection_is_checked_with_one_search_and_a_wrong_key_breaks_it(client, acme, atomic):
    shown = connect(client, acme, atomic)
    assert shown["api_key_set"] and "api_key" not in shown
    assert client.post("/v1/connections/atomic/validate", headers=acme.headers).json["status"] == "ok"
    connect(client, acme, atomic, api_key="another-key-789")
    broken = client.post("/v1/connections/atomic/validate", headers=acme.headers).json
    assert broken["status"] == "broken" and "401" in broken["status_reason"]


def test_a_maintenance_dropoff_waits_until_company_search_says_operational(app, client, acme, atomic):
    connect(client, acme, atomic, first_poll_seconds=60, max_poll_seconds=600)
    send(client, acme, "e1", "Viewed Under Maintenance Page", properties=MAINTENANCE)
    start = timedelta(hours=1)
    tick(app, start)
    [dropoff] = dropoffs(client, acme)
    assert dropoff["category"] == "maintenance" and dropoff["ready_at"] is None
    assert atomic.made("POST", "/company/search") == []  # first looked up a minute later
    tick(app, start + timedelta(seconds=61))
    assert len(atomic.made("POST", "/company/search")) == 1
    assert dropoffs(client, acme)[0]["ready_at"] is None
    tick(app, start + timedelta(seconds=62))  # the wait has doubled: nothing asked
    assert len(atomic.made("POST", "/company/search")) == 1
    atomic.companies["Acme Payroll"] = "operational"
    tick(app, start + timedelta(seconds=61 + 121))
    assert len(atomic.made("POST", "/company/search")) == 2
    assert atomic.made("POST", "/company/search")[-1].json == {"query": "Acme Payroll"}
    assert dropoffs(client, acme)[0]["ready_at"] is not None
    tick(app, start + timedelta(hours=2))
    assert len(atomic.made("POST", "/company/search")) == 2  # nothing waits any more


def test_without_an_atomic_connection_nothing_waits(app, client, acme, atomic):
    send(client, acme, "e1", "Viewed Under Maintenance Page", properties=MAINTENANCE)
    tick(app, timedelta(hours=1))
    assert dropoffs(client, acme)[0]["ready_at"] is not None


def test_a_dropoff_company_search_releases_is_enrolled_and_its_first_message_goes(app, client, acme, atomic):
    client.post("/v1/flows", json={"template": "flow_failure_maintenance", "holdout_percent": 0},
                headers=acme.headers)
    connect(client, acme, atomic, first_poll_seconds=60, max_poll_seconds=600)
    send(client, acme, "e1", "Viewed Under Maintenance Page", properties=MAINTENANCE)
    start = timedelta(hours=1)
    tick(app, start)
    tick(app, start + timedelta(seconds=61))
    assert client.get("/v1/enrollments", headers=acme.headers).json == []  # still under maintenance
    atomic.companies["Acme Payroll"] = "operational"
    tick(app, start + timedelta(seconds=61 + 121))
    tick(app, start + timedelta(seconds=61 + 122))
    [enrollment] = client.get("/v1/enrollments", headers=acme.headers).json
    first = client.get(f"/v1/enrollments/{enrollment['id']}", headers=acme.headers).json["messages"][0]
    clock.tick(app, at=datetime.fromisoformat(first["due_at"]))
    [email] = client.get("/v1/outbox", headers=acme.headers).json
    assert email["subject"] == "Acme Payroll is back online"
