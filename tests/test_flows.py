"""Flows end to end, with time travel: a dropoff enrolls, every step goes in its slot, exits stop the rest."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from reengage import clock, phases
from tests.support import event

# Tuesday 20 October 2026, 13:00 UTC: the flows below cross the end of DST in Europe (25 October)
# and North America (1 November), US Thanksgiving and the year's end.
T = datetime(2026, 10, 20, 13, 0, tzinfo=UTC)
ZONES = {"America/New_York": "US", "Europe/Berlin": "DE", "Asia/Tokyo": "JP", "Australia/Sydney": "AU"}


def tick(app, when: datetime):
    return clock.tick(app, at=when)


def setup_sales(client, tenant, **flow):
    """The account's settings and a sales flow cloned from the template, without a holdout unless asked."""
    assert client.patch("/v1/settings", json={"timezone": "America/New_York", "country": "US"},
                        headers=tenant.headers).status_code == 200
    response = client.post("/v1/flows", json={"template": "sales", "holdout_percent": 0, **flow},
                           headers=tenant.headers)
    assert response.status_code == 201, response.json
    return response.json


def abandon(app, client, tenant, contact, key="s1", at=T, **properties):
    """An application started and left: the dropoff is raised and enrolled at the deadline (at + 24 h)."""
    body = event(key, type="application_started", occurred_at=at.isoformat(), contact=contact,
                 properties={"deep_link": "https://app.example.com/resume/77", **properties})
    assert client.post("/v1/events", json=body, headers=tenant.headers).status_code == 200
    tick(app, at + timedelta(hours=24))
    [enrollment] = client.get(f"/v1/enrollments?contact_id={contact_id(client, tenant, contact)}",
                              headers=tenant.headers).json
    return client.get(f"/v1/enrollments/{enrollment['id']}", headers=tenant.headers).json


def contact_id(client, tenant, contact) -> int:
    return client.get(f"/v1/contacts?external_id={contact['external_id']}", headers=tenant.headers).json[0]["id"]


def walk(app, client, tenant, enrollment):
    """Tick at every due time of the enrollment (and a second before each): answer its messages after."""
    for message in sorted(enrollment["messages"], key=lambda m: m["due_at"]):
        due = datetime.fromisoformat(message["due_at"])
        tick(app, due - timedelta(seconds=1))
        assert status_of(client, tenant, message["id"]) in ("scheduled", "skipped")
        tick(app, due)
    return client.get(f"/v1/enrollments/{enrollment['id']}", headers=tenant.headers).json


def status_of(client, tenant, message_id):
    return client.get(f"/v1/messages/{message_id}", headers=tenant.headers).json["status"]


@pytest.mark.parametrize("zone", ZONES)
def test_a_contact_walks_through_all_five_phases_inside_every_rule(app, client, acme, zone):
    setup_sales(client, acme)
    contact = {"external_id": f"dana-{zone}", "email": "dana@example.com", "phone": "+14155552671", "first_name": "Dana",
               "timezone": zone,
               "country": ZONES[zone]}
    enrollment = abandon(app, client, acme, contact)
    started = datetime.fromisoformat(enrollment["started_at"])
    assert started == T + timedelta(hours=24) and enrollment["status"] == "active"
    done = walk(app, client, acme, enrollment)
    messages = done["messages"]
    assert {m["phase"] for m in messages} == {1, 2, 3, 4, 5}
    assert all(m["status"] == "sent" for m in messages), [(m["step"], m["status"], m["reason"], m["due_at"], m["queued_at"]) for m in messages]
    calendar = holidays.country_holidays(ZONES[zone])
    for message in messages:
        sent = datetime.fromisoformat(message["sent_at"])
        there = sent.astimezone(ZoneInfo(zone))
        phase = phases.BY_NUMBER[message["phase"]]
        assert phase.start <= sent - started < phase.end, message["step"]
        assert 9 <= there.hour < 18 and there.weekday() < 5 and there.date() not in calendar, message
        assert sent >= datetime.fromisoformat(message["planned_at"])
    for channel in ("email", "webhook"):
        times = sorted(datetime.fromisoformat(m["sent_at"]) for m in messages if m["channel"] == channel)
        assert all(b - a >= timedelta(hours=24) for a, b in zip(times, times[1:], strict=False))
    assert done["status"] == "completed"
    outbox = client.get("/v1/outbox?limit=100", headers=acme.headers).json
    assert len(outbox) == 5 and all(item["to"] == "dana@example.com" for item in outbox)
    first = outbox[-1]
    assert "https://app.example.com/resume/77" in first["text"] and "Dana" in first["text"]
    assert "/u/" in first["html"] and first["subject"]


def test_days_keep_the_local_hour_across_the_dst_change(app, client, acme):
    setup_sales(client, acme)
    contact = {"external_id": "berlin", "email": "b@example.com", "timezone": "Europe/Berlin", "country": "DE"}
    enrollment = abandon(app, client, acme, contact)
    by_step = {m["step"]: m for m in enrollment["messages"]}
    zone = ZoneInfo("Europe/Berlin")
    before = datetime.fromisoformat(by_step["1.pick-up"]["planned_at"]).astimezone(zone)
    after = datetime.fromisoformat(by_step["2.how-others-decided"]["planned_at"]).astimezone(zone)
    # 15:00 CEST + 2 h before the change; four days later 15:00 CET (wall clock) + 0 h, one UTC hour later.
    assert after.utcoffset() != before.utcoffset()
    assert (after.hour, after.minute) == ((T + timedelta(hours=24)).astimezone(zone).hour, 0)


def test_a_step_that_falls_on_a_holiday_moves_to_the_next_working_day(app, client, acme):
    setup_sales(client, acme)
    contact = {"external_id": "ny", "email": "n@example.com", "timezone": "America/New_York", "country": "US"}
    # Enrolled Thursday 22 October at 09:00 New York time: 35 days later is Thanksgiving.
    enrollment = abandon(app, client, acme, contact, at=datetime(2026, 10, 21, 13, 0, tzinfo=UTC))
    [last_chance] = [m for m in enrollment["messages"] if m["phase"] == 4]
    assert datetime.fromisoformat(last_chance["planned_at"]).date() == date(2026, 11, 26)
    assert datetime.fromisoformat(last_chance["due_at"]).astimezone(ZoneInfo("America/New_York")).replace(
        tzinfo=None) == datetime(2026, 11, 27, 9, 0)
    assert last_chance["moved_because"] == "public holiday (Thanksgiving Day)"


def test_the_frequency_cap_holds_across_flows(app, client, acme):
    setup_sales(client, acme)
    assert client.post("/v1/flows", json={"template": "lead_magnet", "holdout_percent": 0, "enroll_on": []},
                       headers=acme.headers).status_code == 201
    contact = {"external_id": "cap", "email": "c@example.com", "timezone": "America/New_York"}
    sales = abandon(app, client, acme, contact)
    lead = client.post("/v1/actions/enroll", json={"external_id": "cap", "flow": "lead_magnet"},
                       headers=acme.headers).json
    detail = client.get(f"/v1/enrollments/{lead['id']}", headers=acme.headers).json
    first_sales = min(datetime.fromisoformat(m["due_at"]) for m in sales["messages"] if m["channel"] == "email")
    first_lead = min(datetime.fromisoformat(m["due_at"]) for m in detail["messages"] if m["channel"] == "email")
    assert abs(first_lead - first_sales) >= timedelta(hours=24)
    emails = sorted(datetime.fromisoformat(m["due_at"]) for e in (sales, detail) for m in e["messages"]
                    if m["channel"] == "email")
    assert all(b - a >= timedelta(hours=24) for a, b in zip(emails, emails[1:], strict=False))
