"""One account can never read or change another's data, on any endpoint."""

import pytest

from tests.support import event

# Every provider's connection routes are probed by test_connections_are_per_account.
PROVIDERS = ("sendgrid", "hubspot", "salesforce", "atomic")

# Every /v1 route and method, with the probe below that checks it. A new route without a
# probe fails test_every_route_is_probed.
PROBED = {
    ("GET", "/v1/me"),
    ("GET", "/v1/contacts"),
    ("POST", "/v1/contacts"),
    ("GET", "/v1/contacts/<int:contact_id>"),
    ("GET", "/v1/events"),
    ("POST", "/v1/events"),
    ("GET", "/v1/rules"),
    ("POST", "/v1/rules"),
    ("GET", "/v1/rules/<key>"),
    ("PATCH", "/v1/rules/<key>"),
    ("DELETE", "/v1/rules/<key>"),
    ("GET", "/v1/scenarios"),
    ("GET", "/v1/dropoffs"),
    ("GET", "/v1/dropoffs/<int:dropoff_id>"),
    ("POST", "/v1/dropoffs/<int:dropoff_id>/dismiss"),
    ("GET", "/v1/actions"),
    ("POST", "/v1/actions/record-conversion"),
    ("POST", "/v1/actions/service-status"),
    ("POST", "/v1/webhooks/atomic"),
    ("GET", "/v1/settings"),
    ("PATCH", "/v1/settings"),
    ("GET", "/v1/templates"),
    ("GET", "/v1/templates/<key>"),
    ("GET", "/v1/flows"),
    ("POST", "/v1/flows"),
    ("GET", "/v1/flows/<int:flow_id>"),
    ("PATCH", "/v1/flows/<int:flow_id>"),
    ("DELETE", "/v1/flows/<int:flow_id>"),
    ("GET", "/v1/flows/<int:flow_id>/export"),
    ("GET", "/v1/enrollments"),
    ("GET", "/v1/enrollments/<int:enrollment_id>"),
    ("GET", "/v1/messages"),
    ("GET", "/v1/messages/<int:message_id>"),
    ("GET", "/v1/outbox"),
    ("GET", "/v1/suppressions"),
    ("POST", "/v1/suppressions"),
    ("DELETE", "/v1/suppressions/<int:suppression_id>"),
    ("POST", "/v1/actions/enroll"),
    ("POST", "/v1/actions/exit"),
    ("POST", "/v1/actions/render"),
    *{(method, f"/v1/connections/{provider}") for method in ("GET", "PUT", "DELETE")
      for provider in PROVIDERS},
    *{("POST", f"/v1/connections/{provider}/validate") for provider in PROVIDERS},
    # Probed by tests/providers/sendgrid/test_sendgrid.py::
    # test_mail_we_did_not_send_and_other_accounts_messages_are_ignored
    ("POST", "/v1/webhooks/sendgrid/<token>"),
    # Probed by tests/providers/hubspot/test_hubspot.py::test_the_accounts_api_key_is_accepted_instead_of_a_signature
    ("POST", "/v1/webhooks/hubspot/<token>"),
    ("POST", "/v1/hubspot/actions/<token>"),
    # Probed by tests/triggers/test_triggers.py::test_another_accounts_items_never_appear
    ("GET", "/v1/triggers"),
    *{("GET", f"/v1/triggers/{key}") for key in ("dropoff.detected", "message.due", "contact.recovered",
                                                  "contact.engaged")},
    # Probed by tests/winback/test_deals.py::test_another_accounts_deals_are_not_found
    ("GET", "/v1/triggers/winback.ready"),
    ("GET", "/v1/triggers/escalation.raised"),
    ("POST", "/v1/deals"),
    ("GET", "/v1/deals"),
    ("GET", "/v1/deals/<int:deal_id>"),
    ("PATCH", "/v1/deals/<int:deal_id>"),
    ("POST", "/v1/deals/<int:deal_id>/signals"),
    ("DELETE", "/v1/deals/<int:deal_id>/signals/<int:signal_id>"),
    ("POST", "/v1/deals/<int:deal_id>/outcomes"),
    ("POST", "/v1/product-updates"),
    ("GET", "/v1/product-updates"),
    ("GET", "/v1/winback/metrics"),
    # Probed by tests/results/test_metrics.py::test_another_accounts_history_is_not_counted
    ("GET", "/v1/metrics"),
    # Probed by tests/results/test_experiments.py::test_another_accounts_experiments_are_not_shown
    ("GET", "/v1/metrics.csv"),
    ("GET", "/v1/metrics/ab-tests"),
    ("GET", "/v1/metrics/holdout"),
    # Probed by tests/sequencing/test_sendtime.py (the holdout share test asks as another account too)
    ("GET", "/v1/metrics/send-time"),
    ("POST", "/v1/actions/record-deal"),
    # Probed by tests/test_hooks.py::test_another_accounts_hooks_are_not_found
    ("GET", "/v1/hooks"),
    ("POST", "/v1/hooks"),
    ("GET", "/v1/hooks/<int:hook_id>"),
    ("DELETE", "/v1/hooks/<int:hook_id>"),
    ("GET", "/v1/hooks/<int:hook_id>/deliveries"),
    # Probed by tests/searches/test_searches.py::test_another_accounts_records_are_not_found
    ("GET", "/v1/searches/find-contact"),
    ("GET", "/v1/searches/find-dropoff"),
    *{("GET", f"/v1/options/{source}") for source in ("flows", "scenarios", "rules", "phases")},
    # Probed by tests/actions/test_zap_actions.py (each finds or changes only the caller's contacts)
    ("POST", "/v1/actions/send-phase-message"),
    ("POST", "/v1/actions/record-event"),
    ("POST", "/v1/actions/update-contact"),
}


def test_every_route_is_probed(app):
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == PROBED


@pytest.fixture
def acme_data(client, acme):
    """Acme's contact and event, which Globex must never see or touch."""
    body = event("acme-evt", contact={"external_id": "acme-user", "email": "dana@example.com", "first_name": "Dana"})
    contact_id = client.post("/v1/events", json=body, headers=acme.headers).json["contact_id"]
    return {"contact_id": contact_id}


def test_me_is_the_callers_account(client, acme, globex):
    assert client.get("/v1/me", headers=globex.headers).json == {"id": globex.id, "name": "Globex"}


def test_other_accounts_contact_is_not_found(client, globex, acme_data):
    response = client.get(f"/v1/contacts/{acme_data['contact_id']}", headers=globex.headers)
    assert response.status_code == 404


def test_searches_do_not_cross_accounts(client, globex, acme_data):
    for query in ("email=dana@example.com", "external_id=acme-user", ""):
        assert client.get(f"/v1/contacts?{query}", headers=globex.headers).json == []
    assert client.get(f"/v1/events?contact_id={acme_data['contact_id']}", headers=globex.headers).json == []
    assert client.get("/v1/events", headers=globex.headers).json == []


def test_upserting_the_same_identifiers_makes_a_separate_contact(client, acme, globex, acme_data):
    theirs = client.post(
        "/v1/contacts", json={"external_id": "acme-user", "first_name": "Mallory"}, headers=globex.headers
    ).json
    assert theirs["id"] != acme_data["contact_id"]
    ours = client.get(f"/v1/contacts/{acme_data['contact_id']}", headers=acme.headers).json
    assert ours["first_name"] == "Dana"


def test_event_ids_are_per_account(client, acme, globex, acme_data):
    response = client.post("/v1/events", json=event("acme-evt", type="other"), headers=globex.headers).json
    assert response["status"] == "created" and response["contact_id"] != acme_data["contact_id"]
    [ours] = client.get("/v1/events", headers=acme.headers).json
    assert ours["type"] == "application_started"


def test_rules_are_per_account(client, acme, globex):
    custom = {"key": "acme_only", "scenario": "sales.went_silent", "kind": "inactivity",
              "params": {"start_events": ["x"], "goal_events": ["y"], "wait": "1h"}}
    assert client.post("/v1/rules", json=custom, headers=acme.headers).status_code == 201
    assert client.get("/v1/rules/acme_only", headers=globex.headers).status_code == 404
    assert client.patch("/v1/rules/acme_only", json={"enabled": False}, headers=globex.headers).status_code == 404
    assert client.delete("/v1/rules/acme_only", headers=globex.headers).status_code == 404
    assert "acme_only" not in {r["key"] for r in client.get("/v1/rules", headers=globex.headers).json}
    scenarios = client.get("/v1/scenarios", headers=globex.headers).json
    assert all("acme_only" not in s["rules"] for s in scenarios)
    # The same key is free in another account.
    assert client.post("/v1/rules", json=custom, headers=globex.headers).status_code == 201
    assert client.get("/v1/rules/acme_only", headers=acme.headers).json["enabled"] is True


def test_dropoffs_are_per_account(app, client, acme, globex):
    from datetime import timedelta

    from tests.support.detection import send, tick

    send(client, acme, "s1", "application_started")
    tick(app, timedelta(days=2))
    [dropoff] = client.get("/v1/dropoffs", headers=acme.headers).json
    assert client.get("/v1/dropoffs", headers=globex.headers).json == []
    assert client.get(f"/v1/dropoffs/{dropoff['id']}", headers=globex.headers).status_code == 404
    assert client.post(f"/v1/dropoffs/{dropoff['id']}/dismiss", headers=globex.headers).status_code == 404
    assert client.get(f"/v1/dropoffs/{dropoff['id']}", headers=acme.headers).json["status"] == "open"


def test_actions_touch_only_the_callers_account(app, client, acme, globex):
    from datetime import timedelta

    from tests.support.detection import send, tick

    body = {"service": "Acme Payroll", "status": "maintenance"}
    client.post("/v1/actions/service-status", json=body, headers=acme.headers)
    send(client, acme, "e1", "Viewed Under Maintenance Page", properties={"company": "Acme Payroll"})
    tick(app, timedelta(hours=1))
    released = client.post("/v1/actions/service-status", json={**body, "status": "operational"},
                           headers=globex.headers).json["released"]
    assert released == 0
    assert client.get("/v1/dropoffs", headers=acme.headers).json[0]["ready_at"] is None
    [dropoff] = client.get("/v1/dropoffs", headers=acme.headers).json
    response = client.post("/v1/actions/record-conversion", json={"contact_id": dropoff["contact_id"]},
                           headers=globex.headers)
    assert response.status_code == 404
    assert client.get("/v1/actions", headers=globex.headers).status_code == 200


def test_atomic_events_land_in_the_callers_account(client, acme, globex):
    body = {"callback": "onInteraction", "identifier": "user-1", "payload": {"name": "Viewed Login Page"}}
    assert client.post("/v1/webhooks/atomic", json=body, headers=acme.headers).json["status"] == "created"
    assert client.post("/v1/webhooks/atomic", json=body, headers=globex.headers).json["status"] == "created"
    assert len(client.get("/v1/events", headers=acme.headers).json) == 1


def test_flows_and_what_they_sent_are_per_account(app, client, acme, globex):
    from datetime import datetime

    from reengage.jobs import clock

    client.patch("/v1/settings", json={"timezone": "Asia/Tokyo"}, headers=acme.headers)
    assert client.get("/v1/settings", headers=globex.headers).json["timezone"] == "UTC"
    assert client.patch("/v1/settings", json={"country": "FR"}, headers=globex.headers).status_code == 200
    assert client.get("/v1/settings", headers=acme.headers).json["country"] is None
    assert client.get("/v1/templates", headers=globex.headers).json == client.get(
        "/v1/templates", headers=acme.headers).json
    assert client.get("/v1/templates/sales", headers=globex.headers).status_code == 200
    flow = client.post("/v1/flows", json={"template": "sales", "holdout_percent": 0}, headers=acme.headers).json
    client.post("/v1/contacts", json={"external_id": "dana", "email": "dana@example.com"}, headers=acme.headers)
    enrollment = client.post("/v1/actions/enroll", json={"external_id": "dana", "flow": flow["id"]},
                             headers=acme.headers).json
    due = client.get(f"/v1/messages?enrollment_id={enrollment['id']}", headers=acme.headers).json[-1]["due_at"]
    clock.tick(app, at=datetime.fromisoformat(due))
    for path in (f"/v1/flows/{flow['id']}", f"/v1/flows/{flow['id']}/export", f"/v1/enrollments/{enrollment['id']}"):
        assert client.get(path, headers=globex.headers).status_code == 404
    assert client.patch(f"/v1/flows/{flow['id']}", json={"name": "x"}, headers=globex.headers).status_code == 404
    assert client.delete(f"/v1/flows/{flow['id']}", headers=globex.headers).status_code == 404
    for path in ("/v1/flows", "/v1/enrollments", "/v1/messages", "/v1/outbox", "/v1/suppressions"):
        assert client.get(path, headers=globex.headers).json == [], path
    [message] = client.get("/v1/messages?status=sent", headers=acme.headers).json
    assert client.get(f"/v1/messages/{message['id']}", headers=globex.headers).status_code == 404
    contact = enrollment["contact_id"]
    for action, body in (("enroll", {"contact_id": contact, "flow": "sales"}), ("exit", {"contact_id": contact}),
                         ("render", {"contact_id": contact, "flow": "sales", "step": "1.pick-up"})):
        assert client.post(f"/v1/actions/{action}", json=body, headers=globex.headers).status_code == 404, action
    refused = client.post("/v1/suppressions", json={"contact_id": contact, "channel": "email"}, headers=globex.headers)
    assert refused.status_code == 404
    assert client.get(f"/v1/enrollments/{enrollment['id']}", headers=acme.headers).json["status"] == "active"
    ours = client.post("/v1/suppressions", json={"contact_id": contact, "channel": "sms"}, headers=acme.headers).json
    assert client.delete(f"/v1/suppressions/{ours['id']}", headers=globex.headers).status_code == 404
    theirs = client.post("/v1/flows", json={"template": "sales"}, headers=globex.headers)
    assert theirs.status_code == 201  # the same key and routes are free in another account


@pytest.mark.parametrize("provider", PROVIDERS)
def test_connections_are_per_account(client, acme, globex, provider):
    body = {"sendgrid": {"api_key": "SG.acme-key.abcdefghij", "from_email": "a@acme.com"},
            "hubspot": {"access_token": "pat-na1-acme-token"},
            "salesforce": {"client_id": "3MVG9-acme-consumer-key", "refresh_token": "5Aep861-acme-token"},
            "atomic": {"api_key": "atomic-acme-key"}}[provider]
    assert client.put(f"/v1/connections/{provider}", json=body, headers=acme.headers).status_code == 200
    for method in ("get", "delete"):
        assert getattr(client, method)(f"/v1/connections/{provider}", headers=globex.headers).status_code == 404
    assert client.post(f"/v1/connections/{provider}/validate", headers=globex.headers).status_code == 404
    assert client.get(f"/v1/connections/{provider}", headers=acme.headers).status_code == 200
