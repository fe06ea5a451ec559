"""The actions a Zap or scenario calls: send a phase message, record an event, update a contact; and the list."""

from datetime import datetime, timedelta

from actions import ACTIONS
from reengage.platform import db
from tests.support.journeys import DANA, T, abandon, messages, setup_sales, tick

# Tuesday 20 October 2026, 11:00 in New York: inside the account's send window.
WORKDAY = T + timedelta(hours=2)


def act(client, tenant, key, body, status=200):
    with db.as_of(WORKDAY):
        response = client.post(f"/v1/actions/{key}", json=body, headers=tenant.headers)
    assert response.status_code == status, response.json
    return response.json


def test_every_action_is_listed_with_its_sample(client, acme):
    listed = {a["key"]: a for a in client.get("/v1/actions", headers=acme.headers).json}
    assert set(listed) == set(ACTIONS) >= {"send-phase-message", "record-event", "record-conversion", "enroll", "exit",
                                           "update-contact", "render"}
    assert all(listed[key]["sample"] == ACTIONS[key].sample for key in listed)


def test_a_written_message_goes_now_and_a_repeated_key_answers_the_first(client, acme):
    setup_sales(client, acme)
    act(client, acme, "update-contact", DANA)
    body = {"email": "dana@example.com", "flow": "sales", "idempotency_key": "run-1",
            "message": {"subject": "Hi {{ contact.first_name }}", "body": "Your spot is saved."}}
    first = act(client, acme, "send-phase-message", body)
    assert first["created"] and first["status"] == "sent" and first["content"]["subject"] == "Hi Dana"
    again = act(client, acme, "send-phase-message", body)
    assert again["id"] == first["id"] and not again["created"]
    assert len(client.get("/v1/outbox", headers=acme.headers).json) == 1


def test_a_flow_step_is_sent_now_once_per_key(client, acme):
    setup_sales(client, acme)
    act(client, acme, "update-contact", DANA)
    body = {"external_id": "dana", "flow": "sales", "step": "1.pick-up", "idempotency_key": "zap-7"}
    sent = act(client, acme, "send-phase-message", body)
    assert sent["status"] == "sent" and sent["step"] == "1.pick-up+zap-7" and sent["phase"] == 1
    assert act(client, acme, "send-phase-message", body)["id"] == sent["id"]
    # Without a key each call is a new send (phase 1's first step is that step again), held by the frequency cap.
    phase = act(client, acme, "send-phase-message", {"external_id": "dana", "flow": "sales", "phase": 1})
    assert phase["step"] == "1.pick-up" and phase["created"] and phase["status"] == "scheduled"
    assert phase["moved_because"] and len(client.get("/v1/outbox", headers=acme.headers).json) == 1


def test_a_scheduled_step_of_a_running_enrollment_is_moved_to_now(app, client, acme):
    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, DANA)
    later = messages(client, acme, enrollment["id"])["2.how-others-decided"]
    with db.as_of(T + timedelta(hours=26)):
        response = client.post("/v1/actions/send-phase-message", headers=acme.headers,
                               json={"external_id": "dana", "flow": "sales", "step": "how-others-decided"})
    moved = response.json
    assert moved["id"] == later["id"] and moved["enrollment_id"] == enrollment["id"] and moved["status"] == "sent"
    assert datetime.fromisoformat(moved["sent_at"]) == T + timedelta(hours=26) < datetime.fromisoformat(
        later["due_at"])


def test_send_refusals_name_the_field(client, acme):
    setup_sales(client, acme)
    act(client, acme, "update-contact", DANA)
    cases = [({"email": "dana@example.com", "flow": "sales"}, "step"),
             ({"email": "dana@example.com", "flow": "sales", "step": "x", "message": {"subject": "s", "body": "b"}},
              "message"),
             ({"email": "dana@example.com", "flow": "sales", "message": {"body": "b"}}, "message.subject"),
             ({"email": "dana@example.com", "flow": "sales", "message": {"subject": "s", "body": "{{ x"}},
              "message.body")]
    for body, field in cases:
        error = act(client, acme, "send-phase-message", body, 422)
        assert error["error"]["details"]["fields"][0]["field"] == field
    assert act(client, acme, "send-phase-message", {"email": "dana@example.com", "flow": "sales", "step": "nope"},
               404)["error"]["code"] == "not_found"
    assert act(client, acme, "send-phase-message", {"email": "x@example.com", "flow": "sales", "phase": 1}, 404)


def test_record_event_is_stored_once_per_id_and_starts_detection(app, client, acme):
    setup_sales(client, acme)
    body = {"id": "zap-1", "type": "application_started", "occurred_at": T.isoformat(), "contact": DANA,
            "properties": {"deep_link": "https://app.example.com/resume/9"}}
    assert act(client, acme, "record-event", body)["status"] == "created"
    assert act(client, acme, "record-event", body)["status"] == "replayed"
    tick(app, T + timedelta(hours=24))
    [dropoff] = client.get("/v1/triggers/dropoff.detected", headers=acme.headers).json
    assert dropoff["contact"]["email"] == "dana@example.com"
    no_id = {k: v for k, v in body.items() if k != "id"}
    assert act(client, acme, "record-event", no_id)["status"] == "created"
    assert act(client, acme, "record-event", {"type": "x"}, 422)["error"]["details"]["fields"][0]["field"] == "contact"


def test_update_contact_merges_and_matches(client, acme):
    first = act(client, acme, "update-contact", {"email": "dana@example.com", "properties": {"plan": "growth"}})
    second = act(client, acme, "update-contact", {"email": "dana@example.com", "first_name": "Dana",
                                                  "consent": {"sms": False}})
    assert first["id"] == second["id"] and second["properties"] == {"plan": "growth"}
    assert second["consent"] == {"sms": False}
    assert act(client, acme, "update-contact", {"first_name": "x"}, 422)["error"]["code"] == "validation_error"



def test_a_one_message_send_starts_no_cooldown_so_a_later_enroll_runs_the_flow(client, acme):
    flow = setup_sales(client, acme)
    act(client, acme, "update-contact", DANA)
    sent = act(client, acme, "send-phase-message", {"external_id": "dana", "flow": "sales", "step": "1.pick-up"})
    carrier = client.get(f"/v1/enrollments/{sent['enrollment_id']}", headers=acme.headers).json
    assert sent["status"] == "sent" and carrier["status"] == "completed" and carrier["source"] == "message"
    enrolled = act(client, acme, "enroll", {"external_id": "dana", "flow": "sales"})
    assert enrolled["created"] and enrolled["id"] != carrier["id"]
    assert enrolled["scheduled"] == sum(len(phase["steps"]) for phase in flow["phases"])
    # A run of the sequence does start the cooldown.
    act(client, acme, "exit", {"external_id": "dana", "flow": "sales"})
    refused = act(client, acme, "enroll", {"external_id": "dana", "flow": "sales"}, status=409)
    assert refused["error"]["code"] == "cooldown"


def test_enrolling_while_a_one_message_send_is_in_flight_gives_the_rest_of_the_flow(app, client, acme):
    from tests.support.journeys import RecordingQueue

    flow = setup_sales(client, acme)
    act(client, acme, "update-contact", DANA)
    held = RecordingQueue()
    original, app.extensions["queue"] = app.extensions["queue"], held
    try:
        queued = act(client, acme, "send-phase-message", {"external_id": "dana", "flow": "sales", "step": "1.pick-up"})
        assert queued["status"] == "queued"
        enrolled = act(client, acme, "enroll", {"external_id": "dana", "flow": "sales"})
        held.run(app, WORKDAY)
    finally:
        app.extensions["queue"] = original
    assert enrolled["created"] and enrolled["id"] == queued["enrollment_id"] and enrolled["source"] == "action"
    steps = messages(client, acme, enrolled["id"])
    assert len(steps) == sum(len(phase["steps"]) for phase in flow["phases"])
    assert steps["1.pick-up"]["id"] == queued["id"] and steps["1.pick-up"]["status"] == "sent"
    assert client.get(f"/v1/enrollments/{enrolled['id']}", headers=acme.headers).json["status"] == "active"
