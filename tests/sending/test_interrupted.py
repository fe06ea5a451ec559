"""Sends cut off midway: settled from SendGrid's events or sent again; siblings in flight keep an enrollment open."""

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from rq.timeouts import JobTimeoutException
from sqlalchemy import select, update

from reengage.channels import CHANNELS, ConnectorError, Delivery
from reengage.models import Message
from reengage.platform import db
from tests.support.connections import connect
from tests.support.journeys import DANA, RecordingQueue, abandon, messages, setup_sales, tick


def cut_off(app, monkeypatch, after_post: bool):
    """Email sends stopped the way RQ stops a job at its timeout: before the POST, or once SendGrid answered."""
    deliver = CHANNELS["email"].deliver

    def stopped(outgoing):
        if after_post:
            deliver(outgoing)
        raise JobTimeoutException("Task exceeded maximum timeout value")

    monkeypatch.setitem(CHANNELS, "email", dataclasses.replace(CHANNELS["email"], deliver=stopped))


@pytest.fixture
def first_email(app, client, acme, sendgrid):
    """Dana's first email of the sales flow, through the fake SendGrid: (message, due time, webhook path)."""
    connect(client, acme)
    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, DANA)
    first = messages(client, acme, enrollment["id"])["1.pick-up"]
    url = client.get("/v1/connections/sendgrid", headers=acme.headers).json["event_webhook_url"]
    return first, datetime.fromisoformat(first["due_at"]), url.removeprefix("http://localhost:8000")


def shown(client, acme, message):
    return client.get(f"/v1/messages/{message['id']}", headers=acme.headers).json


def test_an_email_cut_off_after_sendgrid_took_it_is_recorded_sent_from_its_events(app, client, acme, sendgrid,
                                                                                  first_email, monkeypatch):
    message, due, webhook = first_email
    cut_off(app, monkeypatch, after_post=True)
    tick(app, due)
    assert shown(client, acme, message)["status"] == "sending" and len(sendgrid.sent) == 1
    monkeypatch.undo()
    [posted] = sendgrid.made("POST", r"/v3/mail/send")
    assert posted.json["custom_args"]["reengage_message_id"] == str(message["id"])
    processed = {"email": "dana@example.com", "timestamp": int(due.timestamp()) + 5, "event": "processed",
                 "sg_event_id": "evt-processed-1", "sg_message_id": "fake-000001.filter0001.0",
                 **posted.json["custom_args"]}
    answer = client.post(webhook, json=[processed])
    assert answer.status_code == 200 and answer.json["stored"] == 1
    went = shown(client, acme, message)
    assert went["status"] == "sent" and went["provider_id"] == "fake-000001" and went["attempts"] == 1
    assert "provider's events" in went["reason"]
    tick(app, due + timedelta(hours=2))
    assert len(sendgrid.sent) == 1 and shown(client, acme, message)["status"] == "sent"


def test_an_email_cut_off_before_it_left_goes_again_once_the_window_passes_in_silence(app, client, acme, sendgrid,
                                                                                     first_email, monkeypatch):
    message, due, _ = first_email
    cut_off(app, monkeypatch, after_post=False)
    tick(app, due)
    monkeypatch.undo()
    assert shown(client, acme, message)["status"] == "sending" and sendgrid.sent == []
    tick(app, due + timedelta(seconds=app.config["MESSAGE_SENDING_TIMEOUT_SECONDS"] + 1))
    assert shown(client, acme, message)["status"] == "sending"  # waiting for SendGrid's word
    tick(app, due + timedelta(seconds=app.config["MESSAGE_CONFIRM_WINDOW_SECONDS"] + 1))
    went = shown(client, acme, message)
    assert went["status"] == "sent" and went["attempts"] == 2 and len(sendgrid.sent) == 1


def test_an_email_cut_off_on_every_attempt_fails_saying_so(app, client, acme, sendgrid, first_email, monkeypatch):
    message, due, _ = first_email
    app.config["MESSAGE_MAX_ATTEMPTS"] = 2
    cut_off(app, monkeypatch, after_post=False)
    window = timedelta(seconds=app.config["MESSAGE_CONFIRM_WINDOW_SECONDS"] + 1)
    tick(app, due)
    tick(app, due + window)  # sent again, and cut off again
    tick(app, due + 2 * window + timedelta(seconds=5))
    failed = shown(client, acme, message)
    assert failed["status"] == "failed" and failed["attempts"] == 2 and "every attempt" in failed["reason"]
    assert sendgrid.sent == []


def test_a_message_retrying_is_not_skipped_when_a_sibling_finishes(app, client, acme, sendgrid, monkeypatch):
    connect(client, acme)
    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, DANA)
    steps = messages(client, acme, enrollment["id"])
    email, text = steps["1.pick-up"], steps["1.text-nudge"]
    email_due, text_due = datetime.fromisoformat(email["due_at"]), datetime.fromisoformat(text["due_at"])
    held = RecordingQueue()
    original, app.extensions["queue"] = app.extensions["queue"], held
    # Everything but these two is done, so whichever finishes last completes the enrollment.
    others = [m["id"] for step, m in steps.items() if step not in ("1.pick-up", "1.text-nudge")]
    with app.app_context(), db.transaction() as session:
        session.execute(update(Message).where(Message.id.in_(others)).values(status="skipped", reason="test setup"))
    try:
        tick(app, email_due)
        tick(app, text_due)
        email_job = next(job for job in held.jobs if job[1][0] == [email["id"]])
        text_job = next(job for job in held.jobs if job[1][0] == [text["id"]])
    finally:
        app.extensions["queue"] = original
    deliver = CHANNELS["email"].deliver

    def meanwhile(outgoing):
        # While the email is in flight, the text's job runs to its end; then SendGrid answers 503.
        func, args = text_job
        with app.app_context(), db.as_of(text_due):
            func(*args)
        raise ConnectorError("transient", "SendGrid failed (503)")

    monkeypatch.setitem(CHANNELS, "email", dataclasses.replace(CHANNELS["email"], deliver=meanwhile))
    func, args = email_job
    with app.app_context(), db.as_of(email_due):
        func(*args)
    steps = messages(client, acme, enrollment["id"])
    assert steps["1.text-nudge"]["status"] == "sent" and steps["1.pick-up"]["status"] == "scheduled"
    assert client.get(f"/v1/enrollments/{enrollment['id']}", headers=acme.headers).json["status"] == "active"
    monkeypatch.setitem(CHANNELS, "email", dataclasses.replace(CHANNELS["email"], deliver=deliver))
    tick(app, datetime.fromisoformat(steps["1.pick-up"]["due_at"]))
    assert messages(client, acme, enrollment["id"])["1.pick-up"]["status"] == "sent" and len(sendgrid.sent) == 1
    assert client.get(f"/v1/enrollments/{enrollment['id']}", headers=acme.headers).json["status"] == "completed"


def test_hubspot_tasks_are_claimed_one_at_a_time_so_a_crash_fails_only_the_one_in_flight(app, client, acme,
                                                                                        monkeypatch):
    client.post("/v1/flows", json={"template": "closed_lost", "enroll_on": []}, headers=acme.headers)
    tasks = []
    with db.as_of(datetime(2026, 10, 20, 13, 0, tzinfo=UTC)):
        for n in range(4):
            client.post("/v1/contacts", json={"external_id": f"b{n}", "email": f"b{n}@example.com"},
                        headers=acme.headers)
            enrolled = client.post("/v1/actions/enroll", json={"external_id": f"b{n}", "flow": "closed_lost"},
                                   headers=acme.headers).json
            tasks.append(messages(client, acme, enrolled["id"])["1.owner-close-note"])
    [due] = {datetime.fromisoformat(task["due_at"]) for task in tasks}
    cut, made, seen = tasks[1]["id"], [], {}

    def create(outgoing):
        if outgoing.id == cut and not seen:
            with app.app_context():  # what a kill -9 now would leave: the job's other tasks
                seen.update(db.session().execute(select(Message.id, Message.status).where(
                    Message.id.in_([task["id"] for task in tasks]))).all())
            raise JobTimeoutException("Task exceeded maximum timeout value")
        made.append(outgoing.id)
        return Delivery("hubspot", f"task-{outgoing.id}")

    monkeypatch.setitem(CHANNELS, "hubspot_task", dataclasses.replace(CHANNELS["hubspot_task"], deliver=create))
    tick(app, due)
    assert [seen[task["id"]] for task in tasks] == ["sent", "sending", "queued", "queued"]
    assert [shown(client, acme, task)["status"] for task in tasks] == ["sent", "sending", "queued", "queued"]
    tick(app, due + timedelta(seconds=app.config["MESSAGE_REQUEUE_AFTER_SECONDS"] + 1))
    after = [shown(client, acme, task) for task in tasks]
    assert [task["status"] for task in after] == ["sent", "failed", "sent", "sent"]
    assert "may already have gone" in after[1]["reason"]
    assert sorted(made) == [tasks[0]["id"], tasks[2]["id"], tasks[3]["id"]]  # each made once
