"""Sending: channels, consent, dismissals, flow goals, maintenance, lost jobs and interrupted sends."""

import dataclasses
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from reengage.jobs import clock
from reengage.models import Message
from reengage.platform import db, timing
from tests.support import event
from tests.support.journeys import DANA, RecordingQueue, T, abandon, messages, setup_sales, tick

__all__ = ["RecordingQueue"]


def test_webhook_steps_are_published_for_platforms_to_deliver(app, client, acme):
    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, DANA)
    nudge = messages(client, acme, enrollment["id"])["1.text-nudge"]
    tick(app, datetime.fromisoformat(nudge["due_at"]))
    sent = client.get(f"/v1/messages/{nudge['id']}", headers=acme.headers).json
    assert sent["status"] == "sent" and sent["provider"] == "webhook" and sent["content"]["hint"] == "sms"
    assert sent["content"]["to"]["phone"] == "+14155552671"
    assert "https://app.example.com/resume/77" in sent["content"]["text"]


def test_withheld_consent_skips_that_channel_only(app, client, acme):
    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, {**DANA, "consent": {"sms": False}})
    steps = messages(client, acme, enrollment["id"])
    for step in ("1.pick-up", "1.text-nudge"):
        tick(app, datetime.fromisoformat(steps[step]["due_at"]))
    steps = messages(client, acme, enrollment["id"])
    assert steps["1.pick-up"]["status"] == "sent"
    assert steps["1.text-nudge"]["status"] == "skipped"
    assert steps["1.text-nudge"]["reason"] == "the contact withheld consent for sms"


def test_a_hubspot_task_without_hubspot_fails_with_a_reason(app, client, acme):
    client.post("/v1/flows", json={"template": "closed_lost", "enroll_on": []}, headers=acme.headers)
    client.post("/v1/contacts", json={"external_id": "buyer", "email": "buyer@example.com"}, headers=acme.headers)
    enrolled = client.post("/v1/actions/enroll", json={"external_id": "buyer", "flow": "closed_lost"},
                           headers=acme.headers).json
    task = messages(client, acme, enrolled["id"])["1.owner-close-note"]
    tick(app, datetime.fromisoformat(task["due_at"]))
    failed = client.get(f"/v1/messages/{task['id']}", headers=acme.headers).json
    assert failed["status"] == "failed" and "HubSpot is not connected" in failed["reason"]


def test_dismissing_the_dropoff_ends_its_enrollment(app, client, acme):
    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, DANA)
    client.post(f"/v1/dropoffs/{enrollment['dropoff_id']}/dismiss", headers=acme.headers)
    detail = client.get(f"/v1/enrollments/{enrollment['id']}", headers=acme.headers).json
    assert detail["exit_reason"] == "dismissed"
    assert {m["status"] for m in detail["messages"]} == {"skipped"}


def test_a_flow_goal_event_converts_and_recovers(app, client, acme):
    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, DANA)
    bought = event("buy", type="purchase_completed", occurred_at=(T + timedelta(days=3)).isoformat(),
                   contact={"external_id": "dana"}, value=120)
    client.post("/v1/events", json=bought, headers=acme.headers)
    detail = client.get(f"/v1/enrollments/{enrollment['id']}", headers=acme.headers).json
    assert detail["exit_reason"] == "converted"
    dropoff = client.get(f"/v1/dropoffs/{enrollment['dropoff_id']}", headers=acme.headers).json
    assert dropoff["status"] == "recovered" and dropoff["revenue"] == 120.0


def test_a_maintenance_dropoff_enrolls_only_once_the_service_is_back(app, client, acme):
    client.post("/v1/flows", json={"template": "flow_failure_maintenance", "holdout_percent": 0},
                headers=acme.headers)
    client.post("/v1/actions/service-status", json={"service": "Acme Payroll", "status": "maintenance"},
                headers=acme.headers)
    error = event("e1", type="Viewed Under Maintenance Page", occurred_at=T.isoformat(), contact=DANA,
                  properties={"company": "Acme Payroll"})
    client.post("/v1/events", json=error, headers=acme.headers)
    tick(app, T + timedelta(hours=2))
    [dropoff] = client.get("/v1/dropoffs", headers=acme.headers).json
    assert dropoff["ready_at"] is None and client.get("/v1/enrollments", headers=acme.headers).json == []
    with app.app_context(), db.as_of(T + timedelta(hours=5)):
        client.post("/v1/actions/service-status", json={"service": "Acme Payroll", "status": "operational"},
                    headers=acme.headers)
    tick(app, datetime.now(UTC) + timedelta(seconds=1))
    [enrollment] = client.get("/v1/enrollments", headers=acme.headers).json
    first = messages(client, acme, enrollment["id"])["1.back-online"]
    tick(app, datetime.fromisoformat(first["due_at"]))
    [email] = client.get("/v1/outbox", headers=acme.headers).json
    assert email["subject"] == "Acme Payroll is back online"


def test_lost_jobs_are_requeued_and_interrupted_webhook_messages_go_again(app, client, acme, receiver):
    setup_sales(client, acme)
    hook = client.post("/v1/hooks", json={"target_url": f"{receiver.url}/due", "event": "message.due"},
                       headers=acme.headers).json
    enrollment = abandon(app, client, acme, DANA)
    steps = messages(client, acme, enrollment["id"])
    lost, cut = steps["1.pick-up"], steps["1.text-nudge"]
    held = RecordingQueue()
    original, app.extensions["queue"] = app.extensions["queue"], held
    try:
        due = max(datetime.fromisoformat(lost["due_at"]), datetime.fromisoformat(cut["due_at"]))
        clock.tick(app, at=due)
        held.jobs.clear()  # the jobs are lost
        with app.app_context(), db.transaction() as db_session:  # as a worker killed while publishing it leaves it
            db_session.execute(update(Message).where(Message.id == cut["id"])
                               .values(status="sending", attempts=1, queued_at=due))
        clock.tick(app, at=due + timedelta(seconds=119))
        assert held.jobs == []
        clock.tick(app, at=due + timedelta(minutes=20))
        assert sorted(id for _, args in held.jobs for id in args[0]) == sorted([lost["id"], cut["id"]])
        held.run(app, due + timedelta(minutes=20))
    finally:
        app.extensions["queue"] = original
    clock.tick(app, at=due + timedelta(minutes=21))
    steps = messages(client, acme, enrollment["id"])
    assert steps["1.pick-up"]["status"] == "sent"
    assert steps["1.text-nudge"]["status"] == "sent" and steps["1.text-nudge"]["attempts"] == 2
    # Nothing had left when it was cut off: the platforms get it once.
    posted = [item for item in receiver.items if item["id"] == cut["id"]]
    assert len(posted) == 1
    assert client.get(f"/v1/hooks/{hook['id']}/deliveries", headers=acme.headers).json[0]["status"] == "delivered"


def test_an_interrupted_hubspot_task_fails_rather_than_risk_a_second_task(app, client, acme):
    client.post("/v1/flows", json={"template": "closed_lost", "enroll_on": []}, headers=acme.headers)
    client.post("/v1/contacts", json={"external_id": "buyer", "email": "buyer@example.com"}, headers=acme.headers)
    enrolled = client.post("/v1/actions/enroll", json={"external_id": "buyer", "flow": "closed_lost"},
                           headers=acme.headers).json
    task = messages(client, acme, enrolled["id"])["1.owner-close-note"]
    due = datetime.fromisoformat(task["due_at"])
    with app.app_context(), db.transaction() as db_session:
        db_session.execute(update(Message).where(Message.id == task["id"])
                           .values(status="sending", attempts=1, queued_at=due))
    tick(app, due + timedelta(seconds=121))
    failed = client.get(f"/v1/messages/{task['id']}", headers=acme.headers).json
    assert failed["status"] == "failed" and "may already have gone" in failed["reason"]


def test_a_passing_provider_error_is_retried_with_backoff_then_fails(app, client, acme, monkeypatch):
    from reengage.channels import CHANNELS, ConnectorError

    def unavailable(outgoing):
        raise ConnectorError("transient", "503 from the provider")

    monkeypatch.setitem(CHANNELS, "email", dataclasses.replace(CHANNELS["email"], deliver=unavailable))
    app.config["MESSAGE_MAX_ATTEMPTS"] = 2
    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, DANA)
    first = messages(client, acme, enrollment["id"])["1.pick-up"]
    due = datetime.fromisoformat(first["due_at"])
    tick(app, due)
    retried = client.get(f"/v1/messages/{first['id']}", headers=acme.headers).json
    assert retried["status"] == "scheduled" and retried["attempts"] == 1
    assert retried["reason"] == "retrying after: 503 from the provider"
    assert datetime.fromisoformat(retried["due_at"]) == due + timedelta(seconds=60)
    tick(app, due + timedelta(seconds=60))
    failed = client.get(f"/v1/messages/{first['id']}", headers=acme.headers).json
    assert failed["status"] == "failed" and failed["attempts"] == 2
    assert failed["reason"] == "transient: 503 from the provider"
    assert client.get("/v1/outbox", headers=acme.headers).json == []


def test_a_message_picked_up_late_at_night_waits_for_the_morning(app, client, acme):
    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, DANA)
    first = messages(client, acme, enrollment["id"])["1.pick-up"]
    night = datetime.fromisoformat(first["due_at"]).replace(hour=3)  # 23:00 the evening before, in New York
    night += timedelta(days=1)
    tick(app, night)
    waiting = client.get(f"/v1/messages/{first['id']}", headers=acme.headers).json
    assert waiting["status"] == "scheduled" and waiting["attempts"] == 0
    assert waiting["moved_because"] == "after the send window"
    assert datetime.fromisoformat(waiting["due_at"]) == night.replace(hour=13)  # 09:00 EDT
    tick(app, night.replace(hour=13))
    assert client.get(f"/v1/messages/{first['id']}", headers=acme.headers).json["status"] == "sent"


def test_a_lifted_suppression_lets_later_enrollments_send(app, client, acme):
    setup_sales(client, acme)
    client.post("/v1/contacts", json={"external_id": "sam", "email": "sam@example.com"}, headers=acme.headers)
    contact = client.get("/v1/contacts?external_id=sam", headers=acme.headers).json[0]["id"]
    suppression = client.post("/v1/suppressions", json={"contact_id": contact, "channel": "email"},
                              headers=acme.headers)
    assert suppression.status_code == 201 and suppression.json["reason"] == "manual"
    assert client.delete(f"/v1/suppressions/{suppression.json['id']}", headers=acme.headers).status_code == 204
    assert client.get("/v1/suppressions", headers=acme.headers).json == []
    enrolled = client.post("/v1/actions/enroll", json={"external_id": "sam", "flow": "sales"}, headers=acme.headers)
    first = messages(client, acme, enrolled.json["id"])["1.pick-up"]
    tick(app, datetime.fromisoformat(first["due_at"]))
    assert [item["to"] for item in client.get("/v1/outbox", headers=acme.headers).json] == ["sam@example.com"]


def test_a_disabled_flow_enrolls_no_one(app, client, acme):
    flow = setup_sales(client, acme)
    client.patch(f"/v1/flows/{flow['id']}", json={"enabled": False}, headers=acme.headers)
    client.post("/v1/events", json=event("s1", type="application_started", occurred_at=T.isoformat(), contact=DANA),
                headers=acme.headers)
    tick(app, T + timedelta(hours=24))
    [dropoff] = client.get("/v1/dropoffs", headers=acme.headers).json
    assert dropoff["status"] == "open" and dropoff["route_note"].startswith("no enabled flow is mapped")
    assert client.get("/v1/enrollments", headers=acme.headers).json == []


def test_the_checks_read_only_the_sends_a_frequency_cap_can_still_count(app, client, acme, monkeypatch):
    """A cap of three a week: each email is checked against the sends of the week before it, not the contact's
    whole history."""
    from reengage.sending import readiness
    read = []

    class Watched(readiness.Batch):
        def __init__(self, messages, now):
            super().__init__(messages, now)
            read.append((now, [moment for (_, channel), moments in self.sent.items() if channel == "email"
                               for moment in moments]))
    monkeypatch.setattr(readiness, "Batch", Watched)
    setup_sales(client, acme)
    assert client.patch("/v1/settings", json={"frequency_cap": {"messages": 3, "per": "P7D"}},
                        headers=acme.headers).status_code == 200
    enrollment = abandon(app, client, acme, DANA)
    emails = sorted((m for m in messages(client, acme, enrollment["id"]).values() if m["channel"] == "email"),
                    key=lambda m: m["due_at"])
    for message in emails[:3]:
        tick(app, datetime.fromisoformat(message["due_at"]))
    sent = sorted(datetime.fromisoformat(m["sent_at"]) for m in messages(client, acme, enrollment["id"]).values()
                  if m["channel"] == "email" and m["status"] == "sent")
    assert len(sent) == 3 and len(read) == 3
    expected = [[moment for moment in sent if now - timedelta(days=7) < moment < now] for now, _ in read]
    assert [moments for _, moments in read] == expected
    # The second email's check counted the first; the third, more than a week after both, read neither.
    assert [len(moments) for moments in expected] == [0, 1, 0]


def test_a_send_exactly_one_cap_span_back_is_no_longer_read_as_the_cap_no_longer_counts_it(app, client, acme):
    from reengage.sending import readiness
    setup_sales(client, acme)
    assert client.patch("/v1/settings", json={"frequency_cap": {"messages": 3, "per": "P7D"}},
                        headers=acme.headers).status_code == 200
    enrollment = abandon(app, client, acme, DANA)
    first, second = sorted((m for m in messages(client, acme, enrollment["id"]).values() if m["channel"] == "email"),
                           key=lambda m: m["due_at"])[:2]
    tick(app, datetime.fromisoformat(first["due_at"]))
    sent_at = datetime.fromisoformat(messages(client, acme, enrollment["id"])[first["step"]]["sent_at"])
    with app.app_context():
        waiting = db.session().get(Message, second["id"])
        for now, read in ((sent_at + timedelta(days=7) - timedelta(microseconds=1), [sent_at]),
                          (sent_at + timedelta(days=7), [])):
            assert readiness.Batch([waiting], now).sent[(waiting.contact_id, "email")] == read
            # The cap itself draws the same line: one send inside the span is one the cap counts.
            assert timing.Cap(1, timedelta(days=7)).next_allowed(now, read) == (
                sent_at + timedelta(days=7) if read else None)
