"""A CRM added as one package and a registry entry: connected through the API, it gets the engine's CRM work."""

from datetime import datetime

import pytest

from app import create_app
from reengage import connections
from reengage.jobs import clock, crm
from reengage.links.crm import ClosedDeal, LostDeal
from reengage.platform import db
from reengage.providers.registry import PROVIDERS
from tests.providers import fake_crm
from tests.providers.fake_crm.client import PORTALS, Portal
from tests.support import settings
from tests.support.journeys import DANA, abandon, messages, setup_sales, tick

KEY = "fake-key-0001"


@pytest.fixture
def app(app, database_url):
    """An app that connects to the fake CRM too (the suite's `app` clears the database afterwards)."""
    application = create_app(settings(database_url), {**PROVIDERS, fake_crm.PROVIDER.key: fake_crm.PROVIDER})
    yield application
    with application.app_context():
        db.engine().dispose()


@pytest.fixture
def portal(client, acme):
    PORTALS[KEY] = Portal(contacts={"c-1": DANA["email"]})
    shown = client.put("/v1/connections/fake_crm", json={"api_key": KEY, "sync_closed_lost": True},
                       headers=acme.headers)
    assert shown.status_code == 200 and shown.json["api_key_set"] and shown.json["status"] == "unchecked"
    yield PORTALS[KEY]
    del PORTALS[KEY]


def test_the_fake_crm_is_connected_and_checked_through_the_connections_api(client, acme, portal):
    assert client.post("/v1/connections/fake_crm/validate", headers=acme.headers).json["status"] == "ok"
    client.put("/v1/connections/fake_crm", json={"api_key": "unknown-key"}, headers=acme.headers)
    checked = client.post("/v1/connections/fake_crm/validate", headers=acme.headers).json
    assert checked["status"] == "broken" and checked["status_reason"] == "unknown API key"


def test_sent_messages_are_noted_on_the_fake_crm_contact_once(app, client, acme, portal):
    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, DANA, scenario_hint="x")
    first = messages(client, acme, enrollment["id"])["1.pick-up"]
    tick(app, datetime.fromisoformat(first["due_at"]))
    [(contact_id, text)] = portal.notes
    assert contact_id == "c-1" and "(flow sales, phase 1)" in text
    assert portal.properties["c-1"]["status"] == "in_sequence" and portal.properties["c-1"]["phase"] == "1"
    tick(app, datetime.fromisoformat(first["due_at"]))
    assert len(portal.notes) == 1


def test_closed_lost_deals_listed_by_the_fake_crm_are_synced_once(app, client, acme, portal):
    portal.closed.append(ClosedDeal("d-9", False, "2026-11-01T00:00:00Z", "0001"))
    portal.lost["d-9"] = LostDeal("d-9", {"external_id": "d-9", "name": "Acme renewal", "amount": 12000,
                                          "loss_reason": "Price too high", "contacts": [{"email": DANA["email"]}]},
                                  {"email": DANA["email"]}, {"deal_id": "d-9", "loss_reason": "Price too high"},
                                  "fake-deal-lost-d-9")
    clock.tick(app)
    [event] = client.get("/v1/events?type=deal.closed_lost", headers=acme.headers).json
    assert event["properties"] == {"deal_id": "d-9", "loss_reason": "Price too high"}
    assert event["source"] == "fake_crm"
    [deal] = client.get("/v1/deals", headers=acme.headers).json
    assert deal["external_id"] == "d-9" and deal["source"] == "fake_crm" and deal["name"] == "Acme renewal"
    with app.app_context():
        connection = connections.find(acme.id, "fake_crm")
        assert crm.sync_closed_lost(connection.id) == 0  # run again: the cursor is past the deal
    assert len(client.get("/v1/events?type=deal.closed_lost", headers=acme.headers).json) == 1
