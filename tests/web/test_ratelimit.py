"""Rate limits per account: requests, and events by the event (a batch of N costs N)."""

import pytest

from app import create_app
from reengage.models import Account
from reengage.platform import auth, db
from tests.support import event, settings


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
