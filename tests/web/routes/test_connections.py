"""Connections: credentials go in encrypted and never come out; checks mark them ok or broken."""

import logging

from sqlalchemy import select

from reengage.models import Connection
from reengage.platform import db
from tests.support.connections import HUBSPOT, SENDGRID


def test_a_sendgrid_key_is_stored_encrypted_and_never_answered(app, client, acme):
    put = client.put("/v1/connections/sendgrid", json=SENDGRID, headers=acme.headers)
    assert put.status_code == 200, put.json
    shown = client.get("/v1/connections/sendgrid", headers=acme.headers).json
    assert shown["api_key_set"] is True and shown["from_email"] == "hello@acme.com"
    assert shown["status"] == "unchecked"
    assert shown["event_webhook_url"].startswith("http://localhost:8000/v1/webhooks/sendgrid/")
    assert SENDGRID["api_key"] not in put.get_data(as_text=True) + str(shown)
    with app.app_context():
        stored = db.session().scalar(select(Connection))
        assert SENDGRID["api_key"] not in (stored.sealed or "") + str(stored.settings)


def test_omitted_credentials_are_kept_and_the_first_put_needs_them(client, acme):
    first = client.put("/v1/connections/sendgrid", json={"from_email": "a@acme.com"}, headers=acme.headers)
    assert first.status_code == 422 and first.json["error"]["details"]["fields"][0]["field"] == "api_key"
    client.put("/v1/connections/sendgrid", json=SENDGRID, headers=acme.headers)
    again = client.put("/v1/connections/sendgrid", json={"from_email": "b@acme.com"}, headers=acme.headers).json
    assert again["api_key_set"] is True and again["from_email"] == "b@acme.com"


def test_unknown_fields_and_bad_values_are_named(client, acme):
    response = client.put("/v1/connections/sendgrid", json={**SENDGRID, "data_residency": "mars", "colour": "red"},
                          headers=acme.headers)
    assert response.status_code == 422
    fields = {problem["field"] for problem in response.json["error"]["details"]["fields"]}
    assert fields == {"data_residency", "colour"}


def test_validate_marks_a_good_key_ok_and_a_refused_key_broken(client, acme, sendgrid):
    client.put("/v1/connections/sendgrid", json=SENDGRID, headers=acme.headers)
    ok = client.post("/v1/connections/sendgrid/validate", headers=acme.headers).json
    assert ok["status"] == "ok" and ok["checked_at"]
    assert sendgrid.made("GET", "/v3/scopes")[0].headers["Authorization"] == f"Bearer {SENDGRID['api_key']}"
    client.put("/v1/connections/sendgrid", json={**SENDGRID, "api_key": "SG.revoked.key-zzzz"}, headers=acme.headers)
    broken = client.post("/v1/connections/sendgrid/validate", headers=acme.headers).json
    assert broken["status"] == "broken" and "401" in broken["status_reason"]


def test_validate_answers_502_when_the_service_is_down(client, acme, sendgrid):
    client.put("/v1/connections/sendgrid", json=SENDGRID, headers=acme.headers)
    sendgrid.script(503, {"errors": [{"message": "Service Unavailable"}]})
    response = client.post("/v1/connections/sendgrid/validate", headers=acme.headers)
    assert response.status_code == 502 and response.json["error"]["code"] == "provider_unavailable"
    assert client.get("/v1/connections/sendgrid", headers=acme.headers).json["status"] == "unchecked"


def test_hubspot_secrets_are_write_only_and_its_urls_are_shown(client, acme, hubspot):
    shown = client.put("/v1/connections/hubspot", json=HUBSPOT, headers=acme.headers).json
    assert shown["access_token_set"] and shown["client_secret_set"]
    assert shown["properties"]["status"] == "reengage_status"
    assert "/v1/webhooks/hubspot/" in shown["webhook_url"] and "/v1/hubspot/actions/" in shown["action_url"]
    assert client.post("/v1/connections/hubspot/validate", headers=acme.headers).json["status"] == "ok"
    assert hubspot.made("GET", "/crm/v3/objects/contacts")[0].headers["Authorization"] == "Bearer pat-na1-test-token"


def test_a_connection_is_the_accounts_own(client, acme, globex):
    client.put("/v1/connections/sendgrid", json=SENDGRID, headers=acme.headers)
    assert client.get("/v1/connections/sendgrid", headers=globex.headers).status_code == 404
    assert client.delete("/v1/connections/sendgrid", headers=globex.headers).status_code == 404
    assert client.delete("/v1/connections/sendgrid", headers=acme.headers).status_code == 204
    assert client.get("/v1/connections/sendgrid", headers=acme.headers).status_code == 404


def test_no_credential_reaches_a_log_line(app, client, acme, sendgrid, hubspot, caplog):
    caplog.set_level(logging.DEBUG)
    app.config["LOG_LEVEL"] = "DEBUG"
    client.put("/v1/connections/sendgrid", json={**SENDGRID, "api_key": "SG.revoked.key-zzzz"}, headers=acme.headers)
    client.post("/v1/connections/sendgrid/validate", headers=acme.headers)
    client.put("/v1/connections/hubspot", json=HUBSPOT, headers=acme.headers)
    client.post("/v1/connections/hubspot/validate", headers=acme.headers)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in ("SG.revoked.key-zzzz", HUBSPOT["access_token"], HUBSPOT["client_secret"]):
        assert secret not in logged
