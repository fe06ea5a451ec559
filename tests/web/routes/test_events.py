"""Event intake and the event list, through HTTP."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.support import event


def post(client, tenant, body):
    return client.post("/v1/events", json=body, headers=tenant.headers)


def listed(client, tenant, query=""):
    return client.get(f"/v1/events{query}", headers=tenant.headers).json


def test_single_event_is_stored_and_its_contact_upserted(client, acme):
    response = post(client, acme, event(value=249.5, currency="USD", source="checkout", properties={"step": 2}))
    assert response.status_code == 200
    assert response.json["status"] == "created" and response.json["id"] == "evt-1"
    [stored] = listed(client, acme)
    assert stored["type"] == "application_started"
    assert stored["value"] == 249.5 and stored["currency"] == "USD" and stored["source"] == "checkout"
    assert stored["properties"] == {"step": 2}
    assert stored["contact_id"] == response.json["contact_id"]


def test_replayed_event_is_stored_once_and_answered_as_before(client, acme):
    first = post(client, acme, event()).json
    again = post(client, acme, event(type="something_else")).json
    assert again == {**first, "status": "replayed"}
    [stored] = listed(client, acme)
    assert stored["type"] == "application_started"


def test_replay_inside_a_batch_is_stored_once(client, acme):
    response = post(client, acme, {"events": [event("a"), event("b"), event("a")]})
    assert [r["status"] for r in response.json["events"]] == ["created", "created", "replayed"]
    assert sorted(e["id"] for e in listed(client, acme)) == ["a", "b"]


def test_replay_across_batches_is_stored_once(client, acme):
    post(client, acme, {"events": [event("a"), event("b")]})
    response = post(client, acme, {"events": [event("b"), event("c")]})
    assert [r["status"] for r in response.json["events"]] == ["replayed", "created"]
    assert len(listed(client, acme)) == 3


def test_same_sender_id_in_two_accounts_is_two_events(client, acme, globex):
    assert post(client, acme, event("shared")).json["status"] == "created"
    assert post(client, globex, event("shared")).json["status"] == "created"


def test_every_invalid_field_is_named(client, acme):
    body = {
        "id": "",
        "occurred_at": "yesterday",
        "contact": {"email": "not-an-email", "timezone": "Mars/Olympus", "phone": "12", "consent": {"fax": True}},
        "value": -3,
        "currency": "dollars",
        "colour": "blue",
    }
    response = post(client, acme, body)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_error"
    fields = {problem["field"] for problem in error["details"]["fields"]}
    assert fields >= {
        "id", "type", "occurred_at", "contact.email", "contact.timezone", "contact.phone",
        "contact.consent.fax.key", "value", "currency", "colour",
    }
    assert error["message"].startswith("Invalid input: id:") and "(and 5 more)" in error["message"]


def test_contact_needs_an_identifier(client, acme):
    response = post(client, acme, event(contact={"first_name": "Dana"}))
    assert response.status_code == 422
    assert response.json["error"]["details"]["fields"][0]["field"] == "contact"


def test_batch_is_all_or_nothing_on_validation(client, acme):
    body = {"events": [event("ok-1"), event("bad", contact={"email": "nope"}), event("ok-2")]}
    response = post(client, acme, body)
    assert response.status_code == 422
    assert response.json["error"]["details"]["fields"] == [
        {"field": "events[1].contact.email", "message": "Not a valid email address."}
    ]
    assert listed(client, acme) == []


def test_batch_is_all_or_nothing_on_contact_conflict(client, acme):
    post(client, acme, event("x", contact={"external_id": "u-1", "email": "one@example.com"}))
    body = {"events": [event("ok"), event("clash", contact={"external_id": "u-2", "email": "one@example.com"})]}
    response = post(client, acme, body)
    assert response.status_code == 409
    assert response.json["error"]["details"]["fields"][0]["field"] == "events[1].contact.email"
    assert [e["id"] for e in listed(client, acme)] == ["x"]


def test_batch_over_the_limit_is_refused(app, client, acme):
    app.config["MAX_EVENTS_PER_REQUEST"] = 3
    response = post(client, acme, {"events": [event(str(i)) for i in range(4)]})
    assert response.status_code == 422
    assert response.json["error"]["details"]["fields"][0]["field"] == "events"


def test_empty_batch_and_non_object_bodies_are_refused(client, acme):
    assert post(client, acme, {"events": []}).status_code == 422
    assert post(client, acme, {"events": "a"}).status_code == 422
    response = post(client, acme, [event()])
    assert response.status_code == 422 and response.json["error"]["details"]["fields"][0]["field"] == "body"


def test_oversized_body_is_413(app, client, acme):
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    response = post(client, acme, event(properties={"blob": "x" * 20_000}))
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"


def test_oversized_properties_are_named(client, acme):
    response = post(client, acme, event(properties={"blob": "x" * 40_000}))
    assert response.status_code == 422
    assert response.json["error"]["details"]["fields"][0]["field"] == "properties"


def test_occurred_at_defaults_to_now_and_keeps_its_offset(client, acme):
    before = datetime.now(UTC)
    post(client, acme, event("now"))
    post(client, acme, event("then", occurred_at="2026-03-01T09:00:00+02:00"))
    by_id = {e["id"]: e for e in listed(client, acme)}
    assert datetime.fromisoformat(by_id["now"]["occurred_at"]) >= before - timedelta(seconds=1)
    assert datetime.fromisoformat(by_id["then"]["occurred_at"]) == datetime(2026, 3, 1, 7, 0, tzinfo=UTC)


def test_naive_occurred_at_is_read_as_utc_and_far_future_is_refused(client, acme):
    post(client, acme, event("naive", occurred_at="2026-03-01T09:00:00"))
    assert listed(client, acme)[0]["occurred_at"].startswith("2026-03-01T09:00:00")
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    response = post(client, acme, event("future", occurred_at=future))
    assert response.status_code == 422 and "future" in response.json["error"]["message"]


def test_events_are_listed_newest_first_and_filtered(client, acme):
    post(client, acme, {"events": [
        event("old", occurred_at="2026-01-01T00:00:00Z"),
        event("new", occurred_at="2026-01-03T00:00:00Z", type="application_completed"),
        event("mid", occurred_at="2026-01-02T00:00:00Z", contact={"email": "other@example.com"}),
    ]})
    assert [e["id"] for e in listed(client, acme)] == ["new", "mid", "old"]
    dana = client.get("/v1/contacts?email=dana@example.com", headers=acme.headers).json[0]["id"]
    assert [e["id"] for e in listed(client, acme, f"?contact_id={dana}")] == ["new", "old"]
    assert [e["id"] for e in listed(client, acme, "?type=application_completed")] == ["new"]
    assert [e["id"] for e in listed(client, acme, "?limit=1")] == ["new"]


@pytest.mark.parametrize("query", ["?limit=0", "?limit=101", "?contact_id=abc", "?colour=blue"])
def test_bad_list_filters_are_named(client, acme, query):
    response = client.get(f"/v1/events{query}", headers=acme.headers)
    assert response.status_code == 422
    assert response.json["error"]["details"]["fields"][0]["field"] == query[1:].split("=")[0]


def test_large_batch_is_stored_and_every_event_processed(app, client, acme):
    from sqlalchemy import func, select

    from reengage.intake.ingest import RETURNING_ROWS
    from reengage.models import Event
    from reengage.platform import db

    count = RETURNING_ROWS * 2 + 1
    body = {"events": [event(f"big-{n}", contact={"external_id": f"u{n % 7}"}) for n in range(count)]}
    response = post(client, acme, body)
    assert [r["status"] for r in response.json["events"]] == ["created"] * count
    with app.app_context():
        unprocessed = select(func.count()).select_from(Event).where(Event.processed_at.is_(None))
        assert db.session().scalar(unprocessed) == 0
    assert post(client, acme, body).json["events"][-1]["status"] == "replayed"
