"""Deals arriving from events and from the HubSpot closed-lost sync; drafts handed to HubSpot as the owner's task."""

from datetime import UTC, datetime, timedelta

from reengage.jobs import clock
from reengage.platform import db
from tests.support import event
from tests.support.connections import HUBSPOT
from tests.support.deals import LOST


def send(client, tenant, key, type_, at, contact="sarah@datatech.example", **properties):
    with db.as_of(at):
        response = client.post("/v1/events", json=event(key, type=type_, occurred_at=at.isoformat(),
                                                         contact={"email": contact}, properties=properties),
                               headers=tenant.headers)
    assert response.status_code in (200, 201, 202), response.json
    return response.json


def deal_of(client, tenant, external_id):
    [found] = [d for d in client.get("/v1/deals", headers=tenant.headers).json if d["external_id"] == external_id]
    return found


def test_events_record_the_deal_its_signals_and_the_contacts_replies(client, acme):
    send(client, acme, "e1", "deal.closed_lost", LOST, deal_id="CRM-9", dealname="DataTech renewal",
         loss_reason="Went with a competitor", competitor="StreamCo", amount="52000", closedate=LOST.isoformat())
    deal = deal_of(client, acme, "CRM-9")
    assert deal["source"] == "event" and deal["category"] == "competition" and deal["amount"] == 52000
    assert deal["competitor"] == "StreamCo" and deal["lost_at"] == LOST.isoformat() and len(deal["contact_ids"]) == 1
    send(client, acme, "e2", "deal.signal", LOST + timedelta(days=20), kind="funding", summary="Series B")
    send(client, acme, "e3", "email.opened", LOST + timedelta(days=30))
    deal = deal_of(client, acme, "CRM-9")
    assert [r["signal"] for r in deal["score_reasons"]] == ["funding", "relationship_warmth"] and deal["score"] == 3
    # A reply before any win-back attempt is warmth, not a re-engagement.
    send(client, acme, "e4", "email.replied", LOST + timedelta(days=31))
    assert deal_of(client, acme, "CRM-9")["replied_at"] is None
    send(client, acme, "e5", "deal.outcome", LOST + timedelta(days=100), outcome="contacted", deal_id="CRM-9")
    send(client, acme, "e6", "email.replied", LOST + timedelta(days=102))
    send(client, acme, "e7", "deal.closed_won", LOST + timedelta(days=150), deal_id="CRM-9")
    deal = deal_of(client, acme, "CRM-9")
    assert deal["replied_at"] == (LOST + timedelta(days=102)).isoformat() and deal["status"] == "won"
    assert [o["type"] for o in deal["outcomes"]] == ["contacted", "replied", "won"]
    send(client, acme, "e7", "deal.closed_won", LOST + timedelta(days=150), deal_id="CRM-9")
    assert len(deal_of(client, acme, "CRM-9")["outcomes"]) == 3


def test_a_won_event_for_an_unknown_deal_changes_nothing(client, acme):
    send(client, acme, "w1", "deal.closed_won", LOST, deal_id="never-lost")
    assert client.get("/v1/deals", headers=acme.headers).json == []


def lost_deal(deal_id, stage, modified, reason, **extra):
    return {"id": deal_id, "properties": {"dealname": f"Deal {deal_id}", "amount": "620000", "dealstage": stage,
                                          "pipeline": "enterprise", "closedate": "2026-11-01T00:00:00Z",
                                          "hs_lastmodifieddate": modified, "closed_lost_reason": reason,
                                          "hubspot_owner_id": "512", **extra}}


def test_the_hubspot_sync_records_deals_with_history_company_owner_and_pushes_the_draft(app, client, acme, hubspot):
    settings = {**HUBSPOT, "sync_closed_lost": True, "competitor_property": "competitor"}
    client.put("/v1/connections/hubspot", json=settings, headers=acme.headers)
    hubspot.pipelines.append({"id": "enterprise", "label": "Enterprise", "stages": [
        {"id": "1001", "metadata": {"isClosed": "false", "probability": "0.5"}},
        {"id": "1002", "metadata": {"isClosed": "true", "probability": "0.0"}},
        {"id": "1003", "metadata": {"isClosed": "true", "probability": "1.0"}}]})
    hubspot.deals += [lost_deal("81", "1002", "2026-11-20T10:00:00Z", "Lost to StreamCo", competitor="StreamCo"),
                      lost_deal("82", "closedlost", "2026-11-20T11:00:00Z", "Budget frozen")]
    hubspot.deal_contacts["81"] = ["5101"]
    hubspot.deal_companies["81"] = ["77"]
    hubspot.companies["77"] = {"name": "DataTech", "industry": "COMPUTER_SOFTWARE"}
    hubspot.owners["512"] = {"firstName": "Jordan", "lastName": "Lee", "email": "jordan@example.com"}
    hubspot.stage_history["81"] = [("1001", "2026-09-01T00:00:00Z"), ("1002", "2026-11-01T00:00:00Z")]
    hubspot.script(429, {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                         "errorType": "RATE_LIMIT"}, {"X-HubSpot-RateLimit-Remaining": "0",
                                                     "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"})
    # The first syncs at a fixed moment, before the win-back window below opens whatever the day the test runs.
    synced = datetime(2026, 11, 20, 12, tzinfo=UTC)
    clock.tick(app, at=synced)
    assert client.get("/v1/deals", headers=acme.headers).json == []  # rate limited: nothing half-recorded
    clock.tick(app, at=synced + timedelta(seconds=11))
    first = deal_of(client, acme, "81")
    assert first["source"] == "hubspot" and first["company"] == "DataTech" and first["owner"] == "Jordan Lee"
    assert first["stages"] == [{"stage": "1001", "at": "2026-09-01T00:00:00+00:00"},
                               {"stage": "1002", "at": "2026-11-01T00:00:00+00:00"}]
    assert first["category"] == "competition" and first["competitor"] == "StreamCo"
    assert {e["kind"] for e in first["escalations"]} == {"executive"}
    # A deal without a contact is still a deal (no dropoff: nobody to write to).
    second = deal_of(client, acme, "82")
    assert second["contact_ids"] == [] and second["category"] == "price"
    assert len(client.get("/v1/events?type=deal.closed_lost", headers=acme.headers).json) == 1
    # Later: deal 81 becomes ready (a funding signal makes it medium; its window opens 3 months after the loss).
    with db.as_of(datetime(2026, 11, 21, tzinfo=UTC)):
        client.post(f"/v1/deals/{first['id']}/signals", json={"kind": "funding", "summary": "Series B"},
                    headers=acme.headers)
    opens = datetime.fromisoformat(deal_of(client, acme, "81")["window_start"])
    clock.tick(app, at=opens + timedelta(seconds=1))
    clock.tick(app, at=opens + timedelta(seconds=2))
    [task] = hubspot.created["tasks"]
    assert task["properties"]["hubspot_owner_id"] == "512"
    assert task["properties"]["hs_task_subject"] == "Win-back: Deal 81"
    assert "Executive sponsor" in task["properties"]["hs_task_body"]
    targets = {(a["to"]["id"], a["types"][0]["associationTypeId"]) for a in task["associations"]}
    assert targets == {("5101", 204), ("81", 216)}
    assert deal_of(client, acme, "81")["push_status"] == "pushed"
    # The incremental cursor: the next sync asks only for later changes, and a win closes the win-back.
    hubspot.deals.append(lost_deal("81", "1003", "2026-11-21T09:00:00Z", "Lost to StreamCo"))
    later = opens + timedelta(minutes=10)
    clock.tick(app, at=later)
    searches = hubspot.made("POST", "/crm/v3/objects/deals/search")
    filters = searches[-1].json["filterGroups"][0]["filters"]
    assert {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": "2026-11-20T11:00:00Z"} in filters
    assert set(next(f["values"] for f in filters if f["propertyName"] == "dealstage")) == {
        "closedlost", "1002", "closedwon", "1003"}
    assert deal_of(client, acme, "81")["status"] == "won"
    assert len(hubspot.created["tasks"]) == 1


def test_long_crm_values_are_cut_to_fit_rather_than_failing_the_event_batch(client, acme):
    send(client, acme, "long", "deal.closed_lost", LOST, deal_id="L-1", dealname="N" * 900, competitor="C" * 700,
         owner="O" * 400, industry="I" * 300, loss_reason="Price " + "x" * 480)
    send(client, acme, "after", "deal.outcome", LOST + timedelta(days=1), outcome="contacted", note=12345)
    deal = deal_of(client, acme, "L-1")
    assert len(deal["name"]) == 255 and len(deal["competitor"]) == 200 and len(deal["owner"]) == 255
    assert len(deal["industry"]) == 100 and deal["category"] == "price"
    assert deal["outcomes"][0]["note"] == "12345"


def test_deal_events_naming_nothing_known_or_dated_before_the_loss_change_nothing(client, acme, caplog):
    send(client, acme, "x1", "deal.closed_lost", LOST, deal_id="CRM-1", loss_reason="Price")
    send(client, acme, "x2", "deal.signal", LOST + timedelta(days=3), deal_id="CRM-1", kind="luck", summary="?")
    send(client, acme, "x3", "deal.outcome", LOST + timedelta(days=3), deal_id="CRM-1", outcome="maybe")
    send(client, acme, "x4", "deal.outcome", LOST - timedelta(days=3), deal_id="CRM-1", outcome="replied")
    deal = deal_of(client, acme, "CRM-1")
    assert deal["signals"] == [] and deal["outcomes"] == [] and deal["status"] == "lost"
    assert "names no known signal kind: 'luck'" in caplog.text and "names no known outcome: 'maybe'" in caplog.text
    assert len(client.get("/v1/events?type=deal.signal", headers=acme.headers).json) == 1  # stored all the same
