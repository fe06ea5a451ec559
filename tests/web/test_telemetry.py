"""`/metrics` after real traffic: requests, events, sends, hook deliveries, the clock and the queue."""

from datetime import datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from reengage.jobs import clock
from tests.support import event
from tests.support.journeys import DANA, abandon, messages, setup_sales, tick

TOKEN = "metrics-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def scrape(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True)) for sample in family.samples}


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def metered(app):
    app.config["METRICS_TOKEN"] = TOKEN
    return app


def test_metrics_count_requests_events_sends_hook_deliveries_and_the_clock(metered, client, acme, receiver):
    before = scrape(client)
    setup_sales(client, acme)
    hook = client.post("/v1/hooks", json={"target_url": f"{receiver.url}/zap", "event": "dropoff.detected"},
                       headers=acme.headers).json
    twice = event("seen-twice", contact={"external_id": "lee", "email": "lee@example.com"})
    assert client.post("/v1/events", json=twice, headers=acme.headers).json["status"] == "created"
    assert client.post("/v1/events", json=twice, headers=acme.headers).json["status"] == "replayed"
    receiver.script(503, {"status": "down"})  # the first delivery fails, its retry goes through
    enrollment = abandon(metered, client, acme, DANA)
    nudge = messages(client, acme, enrollment["id"])["1.text-nudge"]
    tick(metered, datetime.fromisoformat(nudge["due_at"]) + timedelta(minutes=5))
    assert [d["status"] for d in client.get(f"/v1/hooks/{hook['id']}/deliveries", headers=acme.headers).json] == [
        "delivered"]
    clock.tick(metered)  # on the wall clock: what readiness and the lag read
    after = scrape(client)

    def grew(name: str, **labels) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "reengage_http_request_duration_seconds_count"
    assert grew(requests, method="POST", route="/v1/events", status="200") == 3
    assert grew(requests, method="GET", route="/v1/enrollments/<int:enrollment_id>", status="200") >= 1
    assert grew("reengage_events_received_total", status="created") == 2
    assert grew("reengage_events_received_total", status="replayed") == 1
    assert grew("reengage_messages_total", outcome="sent", channel="webhook", provider="webhook") >= 1
    assert grew("reengage_hook_delivery_duration_seconds_count", outcome="delivered") == 1
    assert grew("reengage_hook_delivery_duration_seconds_count", outcome="failed") == 1
    assert grew("reengage_hook_delivery_failures_total", reason="transient") == 1
    assert value(after, "reengage_clock_due", task="expire_watches") == 0
    assert value(after, "reengage_clock_task_failed", task="dispatch_due_messages") == 0
    assert 0 <= value(after, "reengage_clock_lag_seconds") < 30
    assert ("reengage_queue_jobs", frozenset({("state", "queued")})) in after
    assert value(after, "reengage_dependency_up", dependency="database") == 1


def test_metrics_need_the_token_and_are_off_without_one(app, client):
    off = client.get("/metrics")
    assert off.status_code == 404 and "METRICS_TOKEN" in off.json["error"]["message"]
    app.config["METRICS_TOKEN"] = TOKEN
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers=AUTH).status_code == 200


def test_every_answer_carries_a_request_id_and_keeps_a_tame_one_given(client):
    made = client.get("/livez").headers["X-Request-ID"]
    assert len(made) == 32
    assert client.get("/livez", headers={"X-Request-ID": "lb-1234"}).headers["X-Request-ID"] == "lb-1234"
    assert len(client.get("/livez", headers={"X-Request-ID": "bad <id>"}).headers["X-Request-ID"]) == 32
