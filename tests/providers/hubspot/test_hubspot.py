"""HubSpot workflows calling us (signed with HubSpot's own Signature utility) and our calls back to HubSpot."""

import json
import time
from datetime import datetime, timedelta

import pytest
from hubspot.utils.signature import Signature

from reengage.jobs import clock
from reengage.platform import db
from tests.support.connections import HUBSPOT
from tests.support.connections import connect as connect_sendgrid
from tests.support.journeys import DANA, abandon, messages, setup_sales, tick

SECRET = HUBSPOT["client_secret"]


@pytest.fixture
def urls(client, acme, hubspot):
    shown = client.put("/v1/connections/hubspot", json=HUBSPOT, headers=acme.headers).json
    return {name: shown[name].removeprefix("http://localhost:8000") for name in ("webhook_url", "action_url")}


def post_signed(client, path: str, body, secret: str = SECRET, version: str = "v3", base: str = "http://localhost",
                timestamp: str | None = None, headers: dict | None = None, raw: str | None = None):
    """POST as HubSpot does, the signature made by hubspot-api-client over the full URL HubSpot called."""
    raw = raw if raw is not None else json.dumps(body)
    timestamp = timestamp or str(int(time.time() * 1000))
    signature = Signature.get_signature(secret, raw, version, base + path, "POST", timestamp)
    signed = {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": timestamp} if version == "v3" else {
        "X-HubSpot-Signature": signature, "X-HubSpot-Signature-Version": version}
    return client.post(path, data=json.dumps(body), content_type="application/json",
                       headers={**signed, **(headers or {})})


FLAT = {"vid": 5101, "properties": {"email": "dana@example.com", "firstname": "Dana", "phone": "(555) 0100"}}
VERSIONED = {"objectId": 5101, "properties": {"email": {"value": "dana@example.com", "versions": []},
                                              "firstname": {"value": "Dana"}}}


@pytest.mark.parametrize("payload", [FLAT, VERSIONED], ids=["flat", "versioned"])
def test_a_signed_workflow_webhook_records_the_event_for_the_hubspot_contact(client, acme, urls, payload):
    response = post_signed(client, urls["webhook_url"] + "?type=demo_no_show", payload)
    assert response.status_code == 200, response.json
    assert response.json["event"]["status"] == "created"
    contact = client.get(f"/v1/contacts/{response.json['contact_id']}", headers=acme.headers).json
    assert contact["hubspot_id"] == "5101" and contact["email"] == "dana@example.com"
    assert contact["first_name"] == "Dana" and contact["phone"] is None
    [event] = client.get("/v1/events?type=demo_no_show", headers=acme.headers).json
    assert event["properties"]["email"] == "dana@example.com"
    again = post_signed(client, urls["webhook_url"] + "?type=demo_no_show", payload)
    assert again.json["event"]["status"] == "replayed"


def test_tampered_stale_or_wrongly_signed_webhooks_are_refused(client, urls):
    path = urls["webhook_url"] + "?type=demo_no_show"
    tampered = post_signed(client, path, {**FLAT, "vid": 6}, raw=json.dumps(FLAT))
    assert tampered.status_code == 401 and tampered.json["error"]["code"] == "invalid_signature"
    wrong = post_signed(client, path, FLAT, secret="another-secret")
    assert wrong.json["error"]["code"] == "invalid_signature"
    stale = post_signed(client, path, FLAT, timestamp=str(int((time.time() - 600) * 1000)))
    assert stale.status_code == 401 and stale.json["error"]["code"] == "stale_signature"
    assert client.post(path, json=FLAT).status_code == 401


def test_behind_a_proxy_the_signed_url_is_the_public_one(client, urls):
    path = urls["webhook_url"] + "?type=demo_no_show"
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "reengage.example.com"}
    ok = post_signed(client, path, FLAT, base="https://reengage.example.com", headers=proxied)
    assert ok.status_code == 200, ok.json
    assert post_signed(client, path, FLAT, base="http://localhost", headers=proxied).status_code == 401


def test_only_v3_is_accepted_on_the_webhook_until_older_versions_are_turned_on(client, acme, urls):
    for version in ("v1", "v2"):
        refused = post_signed(client, urls["webhook_url"] + "?type=demo_no_show", FLAT, version=version)
        assert refused.status_code == 401 and refused.json["error"]["code"] == "invalid_signature", version
    shown = client.put("/v1/connections/hubspot", json={**HUBSPOT, "signature_versions": ["v3", "v2", "v1"]},
                       headers=acme.headers).json
    assert shown["signature_versions"] == ["v3", "v2", "v1"]
    assert post_signed(client, urls["webhook_url"] + "?type=ping_v2", FLAT, version="v2").status_code == 200
    signed_body = post_signed(client, urls["webhook_url"], {**FLAT, "type": "ping_v1"}, version="v1")
    assert signed_body.status_code == 200, signed_body.json


def test_a_v1_signature_cannot_carry_its_target_in_the_unsigned_query(client, acme, urls):
    client.put("/v1/connections/hubspot", json={**HUBSPOT, "signature_versions": ["v1"]}, headers=acme.headers)
    for query in ("?type=demo_no_show", "?flow=sales"):
        # v1 signs the body alone: the same signature is valid under any query.
        aimed = post_signed(client, urls["webhook_url"] + query, FLAT, version="v1")
        assert aimed.status_code == 422, aimed.json
        assert aimed.json["error"]["details"]["fields"][0]["field"] == query[1:].split("=")[0]
    assert client.get("/v1/events", headers=acme.headers).json == []


def test_v3_timestamps_more_than_five_minutes_away_either_way_are_refused(client, urls):
    path = urls["webhook_url"] + "?type=demo_no_show"
    for offset in (-301, 301, 3600 * 24):
        response = post_signed(client, path, FLAT, timestamp=str(int((time.time() + offset) * 1000)))
        assert response.status_code == 401 and response.json["error"]["code"] == "stale_signature", offset
    for timestamp in ("soon", "1e30"):
        assert post_signed(client, path, FLAT, timestamp=timestamp).json["error"]["code"] == "stale_signature"
    assert post_signed(client, path, FLAT, timestamp=str(int((time.time() + 60) * 1000))).status_code == 200


def test_a_valid_v3_signature_is_used_when_an_older_one_comes_with_it(client, urls):
    path = urls["webhook_url"] + "?type=demo_no_show"
    forged_v1 = {"X-HubSpot-Signature": "0" * 64, "X-HubSpot-Signature-Version": "v1"}
    assert post_signed(client, path, FLAT, headers=forged_v1).status_code == 200


def test_the_custom_action_takes_v2_and_v3_but_not_v1_by_default(client, acme, urls):
    setup_sales(client, acme)
    assert post_signed(client, urls["action_url"], action(wait="false"), version="v3").status_code == 200
    assert post_signed(client, urls["action_url"], action(wait="false"), version="v2").status_code == 200
    refused = post_signed(client, urls["action_url"], action(wait="false"), version="v1")
    assert refused.status_code == 401 and refused.json["error"]["code"] == "invalid_signature"


@pytest.mark.parametrize("versions", [[], ["v4"], ["v3", "v3", "v2", "v1"], "v3"])
def test_bad_signature_versions_are_refused_naming_the_field(client, acme, hubspot, versions):
    response = client.put("/v1/connections/hubspot", json={**HUBSPOT, "signature_versions": versions},
                          headers=acme.headers)
    assert response.status_code == 422
    assert response.json["error"]["details"]["fields"][0]["field"].startswith("signature_versions")


def test_the_accounts_api_key_is_accepted_instead_of_a_signature(client, acme, globex, urls):
    path = urls["webhook_url"] + "?type=demo_no_show"
    assert client.post(path, json=FLAT, headers={"X-API-Key": acme.key}).status_code == 200
    assert client.post(path, json=FLAT, headers={"X-API-Key": globex.key}).status_code == 401


def test_a_webhook_needs_a_type_or_a_flow_and_a_usable_contact(client, urls):
    missing = post_signed(client, urls["webhook_url"], FLAT)
    assert missing.status_code == 422 and missing.json["error"]["details"]["fields"][0]["field"] == "type"
    bad = post_signed(client, urls["webhook_url"] + "?type=x", {"properties": {"email": "not-an-email"}})
    assert bad.status_code == 422 and bad.json["error"]["details"]["fields"][0]["field"].startswith("properties")


def test_a_webhook_with_a_flow_enrolls_the_contact(client, acme, urls):
    setup_sales(client, acme)
    response = post_signed(client, urls["webhook_url"] + "?flow=sales", FLAT)
    assert response.status_code == 200 and response.json["enrollment"]["status"] == "active"
    unknown = post_signed(client, urls["webhook_url"] + "?flow=nope", FLAT)
    assert unknown.status_code == 404


def action(flow="sales", wait="true", callback="ap-102-4470-1-0", event_type=""):
    return {"callbackId": callback, "origin": {"portalId": 62515, "actionDefinitionId": 1029},
            "context": {"source": "WORKFLOWS", "workflowId": 88102},
            "object": {"objectId": 5101, "objectType": "CONTACT",
                       "properties": {"email": "dana@example.com", "firstname": "Dana"}},
            "inputFields": {"flow": flow, "event_type": event_type, "wait_for_outcome": wait}}


def test_a_blocking_action_completes_its_callback_when_the_enrollment_ends(app, client, acme, urls, hubspot):
    setup_sales(client, acme)
    answer = post_signed(client, urls["action_url"], action(), version="v2")
    assert answer.status_code == 200, answer.json
    fields = answer.json["outputFields"]
    assert fields["hs_execution_state"] == "BLOCK" and fields["enrollment_status"] == "active"
    assert post_signed(client, urls["action_url"], action(), version="v2").json["outputFields"][
        "hs_execution_state"] == "BLOCK"  # HubSpot retried: the same enrollment, still waiting
    clock.tick(app)
    assert hubspot.made("POST", r"/automation/actions/callbacks/2026-03/.*") == []
    client.post("/v1/actions/record-conversion", json={"hubspot_id": "5101", "value": 99}, headers=acme.headers)
    client.post("/v1/actions/exit", json={"hubspot_id": "5101", "flow": "sales", "reason": "converted"},
                headers=acme.headers)
    clock.tick(app)
    [completed] = hubspot.made("POST", r"/automation/actions/callbacks/2026-03/ap-102-4470-1-0/complete")
    assert completed.json["outputFields"]["recovered"] is True
    assert completed.json["outputFields"]["hs_execution_state"] == "SUCCESS"
    clock.tick(app)
    assert len(hubspot.made("POST", r"/automation/actions/callbacks/2026-03/.*")) == 1


def test_an_action_that_cannot_enroll_continues_with_the_reason(client, urls):
    fields = post_signed(client, urls["action_url"], action(flow="nope"), version="v2").json["outputFields"]
    assert fields["hs_execution_state"] == "FAIL_CONTINUE" and "nope" in fields["error"]


def test_an_action_can_record_an_event_without_a_flow(client, acme, urls):
    fields = post_signed(client, urls["action_url"], action(flow="", event_type="trial_stalled"),
                         version="v2").json["outputFields"]
    assert fields == {"event_status": "created", "hs_execution_state": "SUCCESS"}


def test_hubspot_task_steps_become_tasks_for_the_owner(app, client, acme, urls, hubspot):
    client.put("/v1/connections/hubspot", json={**HUBSPOT, "task_owner_id": "8712345"}, headers=acme.headers)
    client.post("/v1/flows", json={"template": "closed_lost", "enroll_on": []}, headers=acme.headers)
    client.post("/v1/contacts", json={"external_id": "buyer", "email": "buyer@example.com", "hubspot_id": "5101"},
                headers=acme.headers)
    enrolled = client.post("/v1/actions/enroll", json={"external_id": "buyer", "flow": "closed_lost"},
                           headers=acme.headers).json
    task = messages(client, acme, enrolled["id"])["1.owner-close-note"]
    tick(app, datetime.fromisoformat(task["due_at"]))
    sent = client.get(f"/v1/messages/{task['id']}", headers=acme.headers).json
    assert sent["status"] == "sent" and sent["provider"] == "hubspot"
    [created] = hubspot.created["tasks"]
    assert sent["provider_id"] == created["id"]
    assert created["properties"]["hubspot_owner_id"] == "8712345"
    assert created["associations"][0]["to"] == {"id": "5101"}
    assert created["associations"][0]["types"][0]["associationTypeId"] == 204


def test_sent_emails_are_noted_on_the_hubspot_contact(app, client, acme, sendgrid, urls, hubspot):
    hubspot.contacts["5101"] = {"email": "dana@example.com"}
    connect_sendgrid(client, acme)
    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, DANA, scenario_hint="x")
    first = messages(client, acme, enrollment["id"])["1.pick-up"]
    tick(app, datetime.fromisoformat(first["due_at"]))
    [note] = hubspot.created["notes"]
    assert "phase 1" in note["properties"]["hs_note_body"]
    assert note["associations"][0]["types"][0]["associationTypeId"] == 202
    written = hubspot.contacts["5101"]
    assert written["reengage_status"] == "in_sequence" and written["reengage_phase"] == "1"
    assert written["reengage_scenario"] == "sales.application_abandoned"
    tick(app, datetime.fromisoformat(first["due_at"]) + timedelta(seconds=1))
    assert len(hubspot.created["notes"]) == 1


def deal(deal_id: str, stage: str, modified: str, reason: str = "Price too high") -> dict:
    return {"id": deal_id, "properties": {"dealname": f"Deal {deal_id}", "amount": "52000", "dealstage": stage,
                                          "pipeline": "enterprise", "closedate": "2026-11-01T00:00:00Z",
                                          "hs_lastmodifieddate": modified, "closed_lost_reason": reason}}


def test_closed_lost_deals_of_every_pipeline_are_synced_incrementally(app, client, acme, urls, hubspot):
    client.put("/v1/connections/hubspot", json={**HUBSPOT, "sync_closed_lost": True}, headers=acme.headers)
    hubspot.pipelines.append({"id": "enterprise", "label": "Enterprise", "stages": [
        {"id": "1001", "metadata": {"isClosed": "false", "probability": "0.5"}},
        {"id": "1002", "metadata": {"isClosed": "true", "probability": "0.0"}}]})
    hubspot.deals += [deal("71", "1002", "2026-11-20T10:00:00Z"), deal("72", "closedlost", "2026-11-20T11:00:00Z"),
                      deal("73", "1001", "2026-11-20T12:00:00Z")]
    hubspot.deal_contacts.update({"71": ["5101"], "72": ["5102"]})
    hubspot.script(429, {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                         "errorType": "RATE_LIMIT", "category": "RATE_LIMITS"},
                   {"X-HubSpot-RateLimit-Remaining": "0", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"})
    clock.tick(app)
    assert client.get("/v1/events?type=deal.closed_lost", headers=acme.headers).json == []
    clock.tick(app)
    recorded = client.get("/v1/events?type=deal.closed_lost", headers=acme.headers).json
    assert sorted(e["properties"]["deal_id"] for e in recorded) == ["71", "72"]
    assert {e["properties"]["loss_reason"] for e in recorded} == {"Price too high"}
    hubspot.deals.append(deal("74", "closedlost", "2026-11-21T09:00:00Z", "Went with a competitor"))
    hubspot.deal_contacts["74"] = ["5101"]
    with app.app_context(), db.as_of(db.utcnow() + timedelta(minutes=6)):
        clock.tick(app, at=db.utcnow())
    searches = hubspot.made("POST", "/crm/v3/objects/deals/search")
    filters = searches[-1].json["filterGroups"][0]["filters"]
    assert {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": "2026-11-20T11:00:00Z"} in filters
    assert set(next(f["values"] for f in filters if f["propertyName"] == "dealstage")) == {"closedlost", "1002",
                                                                                       "closedwon"}
    assert len(client.get("/v1/events?type=deal.closed_lost", headers=acme.headers).json) == 3


def test_the_action_definition_is_printed_for_registration(app, client, acme, urls):
    result = app.test_cli_runner().invoke(args=["hubspot", "action-definition", str(acme.id)])
    assert result.exit_code == 0, result.output
    definition = json.loads(result.output[:result.output.rindex("}") + 1])
    assert definition["actionUrl"].endswith(urls["action_url"])
    assert [f["typeDefinition"]["name"] for f in definition["inputFields"]] == ["flow", "event_type",
                                                                              "wait_for_outcome"]
    assert "recovered" in [f["typeDefinition"]["name"] for f in definition["outputFields"]]


def test_an_ended_enrollment_writes_the_contacts_status_once(app, client, acme, urls, hubspot):
    hubspot.contacts["5101"] = {"email": "dana@example.com"}
    setup_sales(client, acme)
    post_signed(client, urls["webhook_url"] + "?flow=sales", FLAT)
    client.post("/v1/actions/exit", json={"hubspot_id": "5101", "flow": "sales", "reason": "converted"},
                headers=acme.headers)
    clock.tick(app)
    assert "reengage_status" not in hubspot.contacts["5101"]  # still inside the lag
    later = datetime.now().astimezone() + timedelta(minutes=1)
    clock.tick(app, at=later)
    assert hubspot.contacts["5101"]["reengage_status"] == "recovered"
    updates = len(hubspot.made("PATCH", r"/crm/v3/objects/contacts/5101"))
    clock.tick(app, at=later + timedelta(minutes=1))
    assert len(hubspot.made("PATCH", r"/crm/v3/objects/contacts/5101")) == updates


def test_enrollments_ended_at_one_moment_are_all_swept_across_batches(app, client, acme, urls):
    from reengage.jobs import crm

    setup_sales(client, acme)
    for number in range(3):
        client.post("/v1/contacts", json={"external_id": f"c{number}", "hubspot_id": str(700 + number)},
                    headers=acme.headers)
        client.post("/v1/actions/enroll", json={"external_id": f"c{number}", "flow": "sales"}, headers=acme.headers)
    client.delete(f"/v1/flows/{client.get('/v1/flows', headers=acme.headers).json[0]['id']}", headers=acme.headers)
    later = datetime.now().astimezone() + timedelta(minutes=1)
    swept = []
    with app.app_context():
        for _ in range(4):
            for connection_id, ids, through in crm.due_outcomes(later, limit=2):
                swept += ids
                crm.write_outcomes(connection_id, ids, through)
    assert len(swept) == 3 and len(set(swept)) == 3


def test_a_task_for_a_contact_without_a_hubspot_id_is_found_by_email_or_fails(app, client, acme, urls, hubspot):
    hubspot.contacts["5101"] = {"email": "buyer@example.com"}
    client.post("/v1/flows", json={"template": "closed_lost", "enroll_on": []}, headers=acme.headers)
    tasks = {}
    for name in ("buyer", "stranger"):
        client.post("/v1/contacts", json={"external_id": name, "email": f"{name}@example.com"}, headers=acme.headers)
        enrolled = client.post("/v1/actions/enroll", json={"external_id": name, "flow": "closed_lost"},
                               headers=acme.headers).json
        tasks[name] = messages(client, acme, enrolled["id"])["1.owner-close-note"]
    for task in tasks.values():
        tick(app, datetime.fromisoformat(task["due_at"]))
    [created] = hubspot.created["tasks"]
    assert created["associations"][0]["to"] == {"id": "5101"}
    failed = client.get(f"/v1/messages/{tasks['stranger']['id']}", headers=acme.headers).json
    assert failed["status"] == "failed" and failed["reason"].startswith("permanent: HubSpot has no contact")
