"""Flows end to end, with time travel: a dropoff enrolls, every step goes in its slot, exits stop the rest."""

import itertools
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from reengage.platform import db
from reengage.sequencing import enrollments, phases
from tests.support import event
from tests.support.journeys import DANA, RecordingQueue, T, abandon, messages, setup_sales, tick

ZONES = {"America/New_York": "US", "Europe/Berlin": "DE", "Asia/Tokyo": "JP", "Australia/Sydney": "AU"}


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
    contact = {"external_id": f"dana-{zone}", "email": "dana@example.com", "phone": "+14155552671",
               "first_name": "Dana", "timezone": zone, "country": ZONES[zone]}
    enrollment = abandon(app, client, acme, contact)
    started = datetime.fromisoformat(enrollment["started_at"])
    assert started == T + timedelta(hours=24) and enrollment["status"] == "active"
    done = walk(app, client, acme, enrollment)
    messages = done["messages"]
    assert {m["phase"] for m in messages} == {1, 2, 3, 4, 5}
    assert all(m["status"] == "sent" for m in messages), [(m["step"], m["status"], m["reason"]) for m in messages]
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
        assert all(b - a >= timedelta(hours=24) for a, b in itertools.pairwise(times))
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
    # Enrolled an hour after the sales flow, so that both flows' messages lie ahead of the moment of placing.
    with db.as_of(T + timedelta(hours=25)):
        lead = client.post("/v1/actions/enroll", json={"external_id": "cap", "flow": "lead_magnet"},
                           headers=acme.headers).json
    detail = client.get(f"/v1/enrollments/{lead['id']}", headers=acme.headers).json
    # Placing the lead magnet's messages may have moved the sales flow's: read them again.
    sales = client.get(f"/v1/enrollments/{sales['id']}", headers=acme.headers).json
    first_sales = min(datetime.fromisoformat(m["due_at"]) for m in sales["messages"] if m["channel"] == "email")
    first_lead = min(datetime.fromisoformat(m["due_at"]) for m in detail["messages"] if m["channel"] == "email")
    assert abs(first_lead - first_sales) >= timedelta(hours=24)
    emails = sorted(datetime.fromisoformat(m["due_at"]) for e in (sales, detail) for m in e["messages"]
                    if m["channel"] == "email")
    assert all(b - a >= timedelta(hours=24) for a, b in itertools.pairwise(emails))


@pytest.fixture
def held(app):
    """Jobs wait in a RecordingQueue until the test runs them."""
    original, recording = app.extensions["queue"], RecordingQueue()
    app.extensions["queue"] = recording
    yield recording
    app.extensions["queue"] = original


def test_conversion_midway_stops_every_later_step(app, client, acme):
    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, DANA)
    first = datetime.fromisoformat(messages(client, acme, enrollment["id"])["1.pick-up"]["due_at"])
    tick(app, first)
    assert len(client.get("/v1/outbox", headers=acme.headers).json) == 1
    done = event("done", type="application_completed", occurred_at=(first + timedelta(hours=3)).isoformat(),
                 contact={"external_id": "dana"}, value=249)
    client.post("/v1/events", json=done, headers=acme.headers)
    detail = client.get(f"/v1/enrollments/{enrollment['id']}", headers=acme.headers).json
    assert detail["status"] == "exited" and detail["exit_reason"] == "converted"
    later = [m for m in detail["messages"] if m["step"] != "1.pick-up"]
    assert all(m["status"] == "skipped" and m["reason"] == "enrollment exited: converted" for m in later)
    tick(app, T + timedelta(days=120))
    assert len(client.get("/v1/outbox", headers=acme.headers).json) == 1
    [dropoff] = client.get("/v1/dropoffs", headers=acme.headers).json
    assert dropoff["status"] == "recovered" and dropoff["revenue"] == 249.0


def test_a_message_already_queued_rechecks_at_send_time(app, client, acme, held):
    setup_sales(client, acme)
    body = event("s1", type="application_started", occurred_at=T.isoformat(), contact=DANA)
    client.post("/v1/events", json=body, headers=acme.headers)
    held.run(app, T)  # event processing
    tick(app, T + timedelta(hours=24))
    held.run(app, T + timedelta(hours=24))  # processing of anything pending; no message is due yet
    [enrollment] = client.get("/v1/enrollments", headers=acme.headers).json
    due = datetime.fromisoformat(messages(client, acme, enrollment["id"])["1.pick-up"]["due_at"])
    tick(app, due)
    assert messages(client, acme, enrollment["id"])["1.pick-up"]["status"] == "queued"
    response = client.post("/v1/actions/record-conversion", json={"external_id": "dana", "value": 99},
                           headers=acme.headers)
    assert response.json["recovered"] and response.status_code == 200
    held.run(app, due)
    pick_up = messages(client, acme, enrollment["id"])["1.pick-up"]
    assert pick_up["status"] == "skipped" and pick_up["reason"] == "enrollment exited: converted"
    assert client.get("/v1/outbox", headers=acme.headers).json == []


def test_a_send_job_run_twice_sends_once(app, client, acme, held):
    setup_sales(client, acme)
    client.post("/v1/events", json=event("s1", type="application_started", occurred_at=T.isoformat(),
                                         contact=DANA), headers=acme.headers)
    held.run(app, T)
    tick(app, T + timedelta(hours=24))
    [enrollment] = client.get("/v1/enrollments", headers=acme.headers).json
    due = datetime.fromisoformat(messages(client, acme, enrollment["id"])["1.pick-up"]["due_at"])
    tick(app, due)
    [(func, args)] = held.jobs
    held.jobs.append((func, args))  # the same job enqueued twice, as after a lost acknowledgement
    held.run(app, due, repeat=2)
    [sent] = client.get("/v1/outbox", headers=acme.headers).json
    pick_up = messages(client, acme, enrollment["id"])["1.pick-up"]
    assert pick_up["status"] == "sent" and pick_up["attempts"] == 1 and sent["id"] == pick_up["id"]


def test_unsubscribing_from_the_link_stops_the_flow(app, client, acme):
    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, DANA)
    tick(app, datetime.fromisoformat(messages(client, acme, enrollment["id"])["1.pick-up"]["due_at"]))
    [email] = client.get("/v1/outbox", headers=acme.headers).json
    link = email["text"].rsplit("Unsubscribe: ", 1)[1].strip()
    path = link.split("localhost:8000", 1)[1]
    page = client.get(path)
    assert page.status_code == 200 and b"Unsubscribe" in page.data
    assert client.get("/v1/suppressions", headers=acme.headers).json == []  # looking is not unsubscribing
    assert client.post(path).status_code == 200
    assert client.post(path).status_code == 200  # twice is once
    [suppression] = client.get("/v1/suppressions", headers=acme.headers).json
    assert suppression["channel"] == "email" and suppression["reason"] == "unsubscribed"
    detail = client.get(f"/v1/enrollments/{enrollment['id']}", headers=acme.headers).json
    assert detail["status"] == "exited" and detail["exit_reason"] == "unsubscribed"
    tick(app, T + timedelta(days=120))
    assert len(client.get("/v1/outbox", headers=acme.headers).json) == 1
    assert client.get(path[:-3] + "xyz").status_code == 404


def test_a_bounce_suppresses_and_stops_sends_even_in_a_new_enrollment(app, client, acme):
    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, DANA)
    response = client.post("/v1/actions/exit", json={"external_id": "dana", "reason": "bounced"},
                           headers=acme.headers)
    assert response.json == {"contact_id": enrollment["contact_id"], "exited": [enrollment["id"]], "suppressed": True}
    client.patch(f"/v1/flows/{enrollment['flow_id']}", json={"settings": {"cooldown": "1s"}}, headers=acme.headers)
    time.sleep(1.1)
    again = client.post("/v1/actions/enroll", json={"external_id": "dana", "flow": "sales"}, headers=acme.headers)
    assert again.status_code == 200 and again.json["created"]
    tick(app, datetime.now(UTC) + timedelta(days=200))  # the action enrolled as of now
    detail = client.get(f"/v1/enrollments/{again.json['id']}", headers=acme.headers).json
    emails = [m for m in detail["messages"] if m["channel"] == "email"]
    assert all(m["status"] == "skipped" and m["reason"] == "suppressed on email: bounced" for m in emails)
    assert client.get("/v1/outbox", headers=acme.headers).json == []


def test_reentry_is_one_active_enrollment_then_a_cooldown(app, client, acme):
    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, DANA)
    same = client.post("/v1/actions/enroll", json={"external_id": "dana", "flow": "sales"}, headers=acme.headers)
    assert same.status_code == 200 and same.json["id"] == enrollment["id"] and not same.json["created"]
    client.post("/v1/actions/exit", json={"external_id": "dana", "flow": "sales"}, headers=acme.headers)
    refused = client.post("/v1/actions/enroll", json={"external_id": "dana", "flow": "sales"}, headers=acme.headers)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "cooldown"
    assert refused.json["error"]["details"]["until"]


def test_the_holdout_gets_nothing_but_is_enrolled_and_counted(app, client, acme):
    setup_sales(client, acme, holdout_percent=50)
    people = [{"external_id": f"p{n}", "email": f"p{n}@example.com", "phone": f"+1415555{2600 + n}"} for n in range(24)]
    for n, person in enumerate(people):
        client.post("/v1/events", json=event(f"s{n}", type="application_started", occurred_at=T.isoformat(),
                                             contact=person), headers=acme.headers)
    tick(app, T + timedelta(hours=24))
    enrolled = client.get("/v1/enrollments?limit=100", headers=acme.headers).json
    held_out = [e for e in enrolled if e["holdout"]]
    assert len(enrolled) == 24 and 0 < len(held_out) < 24
    due = {m["due_at"] for e in enrolled for m in messages(client, acme, e["id"]).values()}
    for moment in sorted(due):
        tick(app, datetime.fromisoformat(moment))
    for e in enrolled:
        statuses = {m["status"] for m in messages(client, acme, e["id"]).values()}
        assert statuses == ({"held_out"} if e["holdout"] else {"sent"}), e
    outbox = client.get("/v1/outbox?limit=100", headers=acme.headers).json
    assert {item["enrollment_id"] for item in outbox} == {e["id"] for e in enrolled if not e["holdout"]}
    tick(app, max(datetime.fromisoformat(e["ends_at"]) for e in held_out))
    after = client.get("/v1/enrollments?limit=100", headers=acme.headers).json
    assert {e["status"] for e in after} == {"completed"}
    # A held-out contact who comes back on their own is still counted as recovered.
    theirs = client.get(f"/v1/contacts/{held_out[0]['contact_id']}", headers=acme.headers).json
    client.post("/v1/events", json=event("won", type="application_completed", occurred_at=(
        T + timedelta(days=2)).isoformat(), contact={"external_id": theirs["external_id"]}), headers=acme.headers)
    [recovered] = client.get("/v1/dropoffs?status=recovered", headers=acme.headers).json
    assert recovered["contact_id"] == theirs["id"]


def test_groups_and_variants_are_stable_per_contact():
    assert enrollments.bucket("sales", 42, "holdout") == enrollments.bucket("sales", 42, "holdout")
    spread = {enrollments.bucket("sales", n, "holdout") // 10 for n in range(500)}
    assert spread == set(range(10))
