"""Dropoffs through HTTP: filters, lookup, dismissal."""

from datetime import timedelta
from urllib.parse import quote

import pytest

from tests.support.detection import T, send, tick


@pytest.fixture
def two_dropoffs(app, client, acme):
    send(client, acme, "s1", "application_started")
    send(client, acme, "s2", "trial_limit_reached", contact={"email": "kim@example.com"})
    tick(app, timedelta(days=7))
    return {d["scenario"]: d for d in client.get("/v1/dropoffs", headers=acme.headers).json}


def test_filters_narrow_the_list(client, acme, two_dropoffs):
    def ids(query):
        return [d["id"] for d in client.get(f"/v1/dropoffs?{query}", headers=acme.headers).json]

    abandoned = two_dropoffs["sales.application_abandoned"]["id"]
    upgrade = two_dropoffs["upsell.not_upgrading"]["id"]
    assert ids("scenario=sales.application_abandoned") == [abandoned]
    assert ids("stage=customer") == [upgrade]
    assert ids("intent=high") == [abandoned]
    assert ids("rule=not_upgrading") == [upgrade]
    assert ids("status=recovered") == []
    assert sorted(ids(f"since={quote((T + timedelta(days=7)).isoformat())}")) == sorted([abandoned, upgrade])
    assert ids(f"since={quote((T + timedelta(days=8)).isoformat())}") == []
    assert ids("since=2026-03-10T00:00:00") == []  # no offset: UTC


def test_bad_filters_are_named(client, acme):
    response = client.get("/v1/dropoffs?intent=extreme", headers=acme.headers)
    assert response.status_code == 422 and response.json["error"]["details"]["fields"][0]["field"] == "intent"


def test_dismiss_is_idempotent_and_recovered_cannot_be_dismissed(app, client, acme, two_dropoffs):
    dropoff_id = two_dropoffs["sales.application_abandoned"]["id"]
    first = client.post(f"/v1/dropoffs/{dropoff_id}/dismiss", headers=acme.headers).json
    again = client.post(f"/v1/dropoffs/{dropoff_id}/dismiss", headers=acme.headers).json
    assert first["status"] == "dismissed" and again["dismissed_at"] == first["dismissed_at"]
    send(client, acme, "g2", "plan_upgraded", timedelta(days=8), contact={"email": "kim@example.com"})
    upgrade = two_dropoffs["upsell.not_upgrading"]["id"]
    response = client.post(f"/v1/dropoffs/{upgrade}/dismiss", headers=acme.headers)
    assert response.status_code == 409


def test_unknown_dropoff_is_404(client, acme):
    assert client.get("/v1/dropoffs/999999", headers=acme.headers).status_code == 404
    assert client.post("/v1/dropoffs/999999/dismiss", headers=acme.headers).status_code == 404
