"""Salesforce through its REST wire format: simple-salesforce pointed at a local https Salesforce."""

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reengage.jobs import clock
from reengage.platform import db
from tests.fakes.salesforce import FakeSalesforce
from tests.fakes.tls import certificate

SALESFORCE = {"client_id": "3MVG9-consumer-key-fake", "client_secret": "consumer-secret-fake",
              "refresh_token": "5Aep861-refresh-token-fake", "loss_reason_field": "Loss_Reason__c",
              "competitor_field": "Competitor__c", "sync_closed_lost": True,
              "opportunity_fields": {"status": "Reengage_Status__c", "priority": "Reengage_Priority__c",
                                     "score": "Reengage_Score__c", "window": "Reengage_Window__c"}}


@pytest.fixture
def salesforce(app, monkeypatch):
    """A local Salesforce that the app logs in to, trusted through requests' CA bundle variable."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certificate()[0])
    fake = FakeSalesforce(SALESFORCE["client_id"], SALESFORCE["refresh_token"], SALESFORCE["client_secret"])
    app.config["SALESFORCE_LOGIN_URL"] = fake.url
    yield fake
    fake.close()


def opportunity(opp_id: str, modified: str, reason: str | None, won: bool = False, **extra) -> dict:
    return {"Id": opp_id, "Name": f"Opportunity {opp_id}", "Amount": 180000.0, "CloseDate": "2026-11-01",
            "StageName": "Closed Won" if won else "Closed Lost", "IsClosed": True, "IsWon": won,
            "SystemModstamp": modified, "Description": None, "OwnerId": "0055g00000OwnerAAA",
            "Owner": {"Name": "Jordan Lee"}, "Account": {"Name": "DataTech", "Industry": "Technology"},
            "Loss_Reason__c": reason, "Competitor__c": None, "Reengage_Status__c": None, "Reengage_Priority__c": None,
            "Reengage_Score__c": None, "Reengage_Window__c": None, **extra}


def deal_of(client, tenant, external_id):
    [found] = [d for d in client.get("/v1/deals", headers=tenant.headers).json if d["external_id"] == external_id]
    return client.get(f"/v1/deals/{found['id']}", headers=tenant.headers).json


def test_a_connection_is_checked_by_logging_in_and_a_refused_refresh_token_breaks_it(client, acme, salesforce):
    shown = client.put("/v1/connections/salesforce", json=SALESFORCE, headers=acme.headers).json
    assert shown["refresh_token_set"] and shown["client_id_set"] and "refresh_token" not in shown
    checked = client.post("/v1/connections/salesforce/validate", headers=acme.headers).json
    assert checked["status"] == "ok"
    assert salesforce.made("POST", "/services/oauth2/token")
    client.put("/v1/connections/salesforce", json={**SALESFORCE, "refresh_token": "5Aep861-revoked-token"},
               headers=acme.headers)
    broken = client.post("/v1/connections/salesforce/validate", headers=acme.headers).json
    assert broken["status"] == "broken" and "expired access/refresh token" in broken["status_reason"]


def test_a_bad_field_name_is_refused_naming_the_field(client, acme, salesforce):
    answer = client.put("/v1/connections/salesforce", json={**SALESFORCE, "loss_reason_field": "Loss Reason"},
                        headers=acme.headers)
    assert answer.status_code == 422
    assert answer.json["error"]["details"]["fields"][0]["field"] == "loss_reason_field"


def test_jwt_bearer_logs_in_with_a_signed_assertion(client, acme, salesforce):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    salesforce.username = "integration@acme.example"
    salesforce.public_key = key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    settings = {"client_id": SALESFORCE["client_id"], "private_key": pem, "username": "integration@acme.example"}
    client.put("/v1/connections/salesforce", json=settings, headers=acme.headers)
    assert client.post("/v1/connections/salesforce/validate", headers=acme.headers).json["status"] == "ok"
    [login] = salesforce.made("POST", "/services/oauth2/token")
    assert b"jwt-bearer" in login.raw


def test_closed_lost_opportunities_become_deals_dropoffs_and_drafts_and_write_back(app, client, acme, salesforce):
    salesforce.contacts["0035g00000SarahAAA"] = {"Email": "Sarah@DataTech.example", "FirstName": "Sarah",
                                                 "LastName": "Johnson"}
    salesforce.leads["00Q5g00000LeadAAAA"] = {"Email": "li@other.example", "FirstName": "Li", "LastName": "Wei",
                                              "ConvertedOpportunityId": "0065g00000Opp2AAA"}
    salesforce.opportunities.update({
        "0065g00000Opp1AAA": opportunity("0065g00000Opp1AAA", "2026-11-20T10:00:00.000+0000",
                                         "No real-time analytics; they need streaming dashboards",
                                         history=[("Prospecting", "2026-09-01T00:00:00.000+0000"),
                                                  ("Closed Lost", "2026-11-01T00:00:00.000+0000")],
                                         roles=[("0035g00000SarahAAA", True)]),
        "0065g00000Opp2AAA": opportunity("0065g00000Opp2AAA", "2026-11-20T11:00:00.000+0000", "They picked Looker",
                                         Competitor__c="Looker"),
        "0065g00000Opp3AAA": opportunity("0065g00000Opp3AAA", "2026-11-20T12:00:00.000+0000", None),
        "0065g00000Opp4AAA": opportunity("0065g00000Opp4AAA", "2026-11-20T13:00:00.000+0000", None, won=True),
    })
    client.put("/v1/connections/salesforce", json=SALESFORCE, headers=acme.headers)
    salesforce.expire()  # the first call meets a stale session: one fresh login, then on
    clock.tick(app)
    assert salesforce.made("GET", r"/services/data/v59.0/query/01gFAKE[\w-]+")  # the second page was read
    first = deal_of(client, acme, "0065g00000Opp1AAA")
    assert first["source"] == "salesforce" and first["category"] == "feature_gap"
    assert first["company"] == "DataTech" and first["industry"] == "Technology" and first["owner"] == "Jordan Lee"
    assert first["amount"] == 180000.0 and first["lost_at"].startswith("2026-11-01")
    assert [s["stage"] for s in first["stages"]] == ["Prospecting", "Closed Lost"]
    sarah = client.get("/v1/contacts?salesforce_id=0035g00000SarahAAA", headers=acme.headers).json
    assert sarah[0]["email"] == "sarah@datatech.example" and first["contact_id"] == sarah[0]["id"]
    second = deal_of(client, acme, "0065g00000Opp2AAA")
    assert second["category"] == "competition" and second["competitor"] == "Looker"
    assert client.get("/v1/contacts?salesforce_id=00Q5g00000LeadAAAA", headers=acme.headers).json[0]["email"] == (
        "li@other.example")
    assert deal_of(client, acme, "0065g00000Opp3AAA")["contact_ids"] == []
    assert [d["external_id"] for d in client.get("/v1/deals", headers=acme.headers).json].count(
        "0065g00000Opp4AAA") == 0  # won and never known lost: none of ours
    events = client.get("/v1/events?type=deal.closed_lost", headers=acme.headers).json
    assert sorted(e["properties"]["deal_id"] for e in events) == ["0065g00000Opp1AAA", "0065g00000Opp2AAA"]
    clock.tick(app, at=db.utcnow() + timedelta(seconds=1))
    scenarios = {d["scenario"] for d in client.get("/v1/dropoffs", headers=acme.headers).json}
    assert scenarios == {"closed_lost.feature_gap", "closed_lost.competition"}
    # Ready: a funding signal makes it medium priority; its window opens months after the loss.
    with db.as_of(datetime(2026, 11, 21, tzinfo=UTC)):
        client.post(f"/v1/deals/{first['id']}/signals", json={"kind": "funding", "summary": "Series B"},
                    headers=acme.headers)
    opens = datetime.fromisoformat(deal_of(client, acme, "0065g00000Opp1AAA")["window_start"])
    clock.tick(app, at=opens + timedelta(seconds=1))
    clock.tick(app, at=opens + timedelta(seconds=2))
    [task] = salesforce.tasks
    assert task["WhoId"] == "0035g00000SarahAAA" and task["WhatId"] == "0065g00000Opp1AAA"
    assert task["OwnerId"] == "0055g00000OwnerAAA" and task["Subject"] == "Win-back: Opportunity 0065g00000Opp1AAA"
    assert "Hi Sarah," in task["Description"]
    written = salesforce.opportunities["0065g00000Opp1AAA"]
    assert written["Reengage_Status__c"] == "winback_ready" and written["Reengage_Priority__c"] == "medium"
    assert written["Reengage_Score__c"] == "2" and " to " in written["Reengage_Window__c"]
    assert deal_of(client, acme, "0065g00000Opp1AAA")["push_status"] == "pushed"
    # Incremental: the next sync asks from the newest change seen; a win closes the win-back.
    salesforce.opportunities["0065g00000Opp1AAA"].update(IsWon=True, StageName="Closed Won",
                                                         SystemModstamp="2026-11-22T09:00:00.000+0000")
    clock.tick(app, at=opens + timedelta(minutes=10))
    queries = [r.path for r in salesforce.made("GET", r"/services/data/v59.0/query/?")]
    assert "SystemModstamp+%3E%3D+2026-11-20T13%3A00%3A00Z" in queries[-1]
    assert deal_of(client, acme, "0065g00000Opp1AAA")["status"] == "won"


def test_the_org_api_limit_stops_the_sync_with_its_cursor_kept(app, client, acme, salesforce):
    salesforce.opportunities["0065g00000Opp1AAA"] = opportunity("0065g00000Opp1AAA", "2026-11-20T10:00:00.000+0000",
                                                                "Budget cut")
    salesforce.used = 14990  # past the 10% kept for the org's other integrations after the first answer
    client.put("/v1/connections/salesforce", json=SALESFORCE, headers=acme.headers)
    clock.tick(app)
    assert client.get("/v1/deals", headers=acme.headers).json == []
    salesforce.used = 200  # the rolling day moved on
    clock.tick(app)
    assert len(client.get("/v1/deals", headers=acme.headers).json) == 1


def test_a_request_limit_error_is_rate_limited_and_a_bad_field_is_permanent():
    from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceRefusedRequest

    from connectors.errors import ConnectorError
    from connectors.salesforce import _error

    limited = _error(SalesforceRefusedRequest("u", 403, "query", [{"message": "TotalRequests Limit exceeded.",
                                                                   "errorCode": "REQUEST_LIMIT_EXCEEDED"}]))
    bad = _error(SalesforceMalformedRequest("u", 400, "query", [{"message": "No such column", "errorCode":
                                                                 "INVALID_FIELD"}]))
    assert isinstance(limited, ConnectorError) and limited.kind == "rate_limited"
    assert bad.kind == "permanent" and "INVALID_FIELD" in bad.message


def test_a_refused_opportunity_field_keeps_the_task_and_makes_no_second_one(app, client, acme, salesforce):
    salesforce.contacts["0035g00000SarahAAA"] = {"Email": "sarah@datatech.example", "FirstName": "Sarah"}
    salesforce.opportunities["0065g00000Opp1AAA"] = opportunity(
        "0065g00000Opp1AAA", "2026-11-20T10:00:00.000+0000", "Budget was cut", roles=[("0035g00000SarahAAA", True)])
    settings = {**SALESFORCE, "opportunity_fields": {"status": "No_Such_Field__c"}}
    client.put("/v1/connections/salesforce", json=settings, headers=acme.headers)
    clock.tick(app)
    deal = deal_of(client, acme, "0065g00000Opp1AAA")
    with db.as_of(datetime(2026, 11, 21, tzinfo=UTC)):
        client.post(f"/v1/deals/{deal['id']}/signals", json={"kind": "funding", "summary": "Series B"},
                    headers=acme.headers)
    opens = datetime.fromisoformat(deal_of(client, acme, "0065g00000Opp1AAA")["window_start"])
    for seconds in (1, 2, 3):
        clock.tick(app, at=opens + timedelta(seconds=seconds))
    assert len(salesforce.tasks) == 1 and salesforce.made("PATCH", r".*/sobjects/Opportunity/0065g00000Opp1AAA")
    assert deal_of(client, acme, "0065g00000Opp1AAA")["push_status"] == "pushed"
