"""Events sent at offsets from a fixed start, and the dropoffs the clock raises from them."""

from datetime import UTC, datetime, timedelta

from reengage.jobs import clock
from tests.support import event

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


DANA = {"external_id": "dana", "email": "dana@example.com"}


def at(delta: timedelta) -> str:
    return (T + delta).isoformat()


def send(client, tenant, key, type_, when=timedelta(0), contact=DANA, **fields):
    body = event(key, type=type_, occurred_at=at(when), contact=contact, **fields)
    response = client.post("/v1/events", json=body, headers=tenant.headers)
    assert response.status_code == 200, response.json
    return response.json


def dropoffs(client, tenant, query=""):
    return client.get(f"/v1/dropoffs{query}", headers=tenant.headers).json


def tick(app, when: timedelta):
    return clock.tick(app, at=T + when)
