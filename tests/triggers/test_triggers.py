"""Polling triggers through HTTP: newest first, stable ids, filters, limits, samples, and accounts kept apart."""

from datetime import datetime, timedelta
from urllib.parse import quote

import pytest

from tests.support import event
from tests.support.journeys import DANA, T, abandon, messages, setup_sales, tick
from triggers import TRIGGERS

KIM = {**DANA, "external_id": "kim", "email": "kim@example.com", "first_name": "Kim", "phone": "+14155550100"}


def poll(client, tenant, key, query=""):
    response = client.get(f"/v1/triggers/{key}?{query}", headers=tenant.headers)
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture
def sales(app, client, acme):
    """Dana abandons on day 0, Kim an hour later: two dropoffs, each enrolled in the sales flow."""
    setup_sales(client, acme)
    first = abandon(app, client, acme, DANA)
    second = abandon(app, client, acme, KIM, key="s2", at=T + timedelta(hours=1))
    return first, second


def test_dropoffs_are_listed_newest_first_with_their_contact(client, acme, sales):
    items = poll(client, acme, "dropoff.detected")
    assert [item["contact"]["email"] for item in items] == ["kim@example.com", "dana@example.com"]
    assert items[0]["id"] > items[1]["id"] and items[0]["scenario"] == "sales.application_abandoned"
    assert set(items[0]) == set(TRIGGERS["dropoff.detected"].sample)


def test_polling_again_gives_the_same_ids_until_something_new_happens(app, client, acme, sales):
    before = [item["id"] for item in poll(client, acme, "dropoff.detected")]
    assert [item["id"] for item in poll(client, acme, "dropoff.detected")] == before
    lee = {**KIM, "external_id": "lee", "email": "lee@example.com", "phone": "+14155550101"}
    abandon(app, client, acme, lee, key="s3", at=T + timedelta(hours=2))
    after = [item["id"] for item in poll(client, acme, "dropoff.detected")]
    assert after[1:] == before and after[0] not in before


def test_limit_keeps_the_newest_and_since_is_a_cursor_from_the_data(client, acme, sales):
    newest = poll(client, acme, "dropoff.detected", "limit=1")
    assert len(newest) == 1 and newest[0]["contact"]["email"] == "kim@example.com"
    since = quote(newest[0]["detected_at"])
    assert [item["id"] for item in poll(client, acme, "dropoff.detected", f"since={since}")] == [newest[0]["id"]]


def test_filters_narrow_and_bad_filters_are_named(client, acme, sales):
    assert len(poll(client, acme, "dropoff.detected", "scenario=sales.application_abandoned")) == 2
    assert poll(client, acme, "dropoff.detected", "stage=onboarding") == []
    for query, field in (("intent=extreme", "intent"), ("limit=101", "limit"), ("colour=red", "colour"),
                         ("since=yesterday", "since")):
        response = client.get(f"/v1/triggers/dropoff.detected?{query}", headers=acme.headers)
        assert response.status_code == 422, query
        assert response.json["error"]["details"]["fields"][0]["field"] == field


def test_due_webhook_messages_carry_what_a_platform_needs_to_deliver(app, client, acme, sales):
    dana, _ = sales
    nudge = messages(client, acme, dana["id"])["1.text-nudge"]
    assert poll(client, acme, "message.due") == []
    tick(app, datetime.fromisoformat(nudge["due_at"]))
    [item] = poll(client, acme, "message.due")
    assert item["id"] == nudge["id"] and item["hint"] == "sms" and item["flow"] == "sales" and item["phase"] == 1
    assert item["to"]["phone"] == "+14155552671" and "https://app.example.com/resume/77" in item["text"]
    assert set(item) == set(TRIGGERS["message.due"].sample)
    assert poll(client, acme, "message.due", "hint=sms&phase=1&flow=sales") == [item]
    assert poll(client, acme, "message.due", "hint=slack") == [] and poll(client, acme, "message.due", "phase=2") == []


def test_a_recovery_is_credited_to_the_last_message_before_it(app, client, acme, sales):
    dana, _ = sales
    steps = messages(client, acme, dana["id"])
    first = datetime.fromisoformat(steps["1.pick-up"]["due_at"])
    tick(app, first)
    done = event("done", type="application_completed", occurred_at=(first + timedelta(hours=1)).isoformat(),
                 contact={"external_id": "dana"}, value=249)
    client.post("/v1/events", json=done, headers=acme.headers)
    [item] = poll(client, acme, "contact.recovered")
    assert item["revenue"] == 249.0 and item["flow"] == "sales" and item["phase"] == 1
    assert item["message_id"] == steps["1.pick-up"]["id"] and item["step"] == "1.pick-up"
    assert item["contact"]["email"] == "dana@example.com" and set(item) == set(TRIGGERS["contact.recovered"].sample)


def test_a_recovery_after_the_attribution_window_credits_the_flow_only(app, client, acme, sales):
    """The trigger credits what the metrics credit: nothing past the account's window (P7D by default)."""
    dana, _ = sales
    first = datetime.fromisoformat(messages(client, acme, dana["id"])["1.pick-up"]["due_at"])
    tick(app, first)
    sent = datetime.fromisoformat(messages(client, acme, dana["id"])["1.pick-up"]["sent_at"])
    done = event("done", type="application_completed", contact={"external_id": "dana"},
                 occurred_at=(sent + timedelta(days=7, seconds=1)).isoformat())
    client.post("/v1/events", json=done, headers=acme.headers)
    [item] = poll(client, acme, "contact.recovered")
    assert item["flow"] == "sales" and item["message_id"] is None and item["phase"] is None
    assert client.get("/v1/metrics?group_by=phase", headers=acme.headers).json[0]["recovered"] == 0


def test_a_recovery_before_any_message_credits_the_flow_only(client, acme, sales):
    # Kim's dropoff is at T + 25 h (an hour after Dana's); a goal before then would retract it.
    done = event("done", type="application_completed", occurred_at=(T + timedelta(hours=25, minutes=1)).isoformat(),
                 contact={"external_id": "kim"})
    client.post("/v1/events", json=done, headers=acme.headers)
    [item] = poll(client, acme, "contact.recovered")
    assert item["contact"]["email"] == "kim@example.com" and item["flow"] == "sales"
    assert item["message_id"] is None and item["phase"] is None


def test_replies_and_clicks_are_engagements(client, acme, sales):
    for key, type_ in (("r1", "email.replied"), ("c1", "email.clicked"), ("x1", "page_viewed")):
        body = event(key, type=type_, occurred_at=(T + timedelta(days=2)).isoformat(), contact={"external_id": "dana"},
                     properties={"url": "https://app.example.com/x"})
        assert client.post("/v1/events", json=body, headers=acme.headers).status_code == 200
    items = poll(client, acme, "contact.engaged")
    assert [item["engagement"] for item in items] == ["clicked", "replied"]
    assert items[0]["url"] == "https://app.example.com/x" and items[0]["message_id"] is None
    assert [item["type"] for item in poll(client, acme, "contact.engaged", "engagement=replied")] == ["email.replied"]


def test_another_accounts_items_never_appear(client, acme, globex, sales):
    for key in TRIGGERS:
        assert poll(client, globex, key) == []


def test_the_list_declares_every_trigger_with_its_filters_and_sample(client, acme):
    listed = {t["key"]: t for t in client.get("/v1/triggers", headers=acme.headers).json}
    assert set(listed) == set(TRIGGERS)
    assert [f["key"] for f in listed["dropoff.detected"]["filters"]] == ["scenario", "stage", "intent", "rule"]
    assert listed["dropoff.detected"]["filters"][2]["choices"] == ["low", "medium", "high"]
    assert listed["message.due"]["sample"] == TRIGGERS["message.due"].sample


def test_items_are_listed_by_the_field_each_trigger_names_as_its_cursor(client, acme, sales):
    """Make's date marker reads `cursor`: an open reported late is the newest by it, and is listed first."""
    for key, type_, day in (("c2", "email.clicked", 3), ("o2", "email.opened", 1)):
        at = (T + timedelta(days=day)).isoformat()
        body = event(key, type=type_, occurred_at=at, contact={"external_id": "dana"})
        assert client.post("/v1/events", json=body, headers=acme.headers).status_code == 200
    for key, trigger in TRIGGERS.items():
        assert trigger.cursor in trigger.sample, key
        times = [item[trigger.cursor] for item in poll(client, acme, key)]
        assert times == sorted(times, reverse=True), key
    engaged = poll(client, acme, "contact.engaged")
    assert [item["type"] for item in engaged] == ["email.opened", "email.clicked"]
    assert engaged[0]["occurred_at"] < engaged[1]["occurred_at"]
    assert engaged[0]["received_at"] >= engaged[1]["received_at"]
