"""Atomic Transact intake: SDK callbacks and CloudEvents webhooks feed the flow-failure rules."""

from datetime import timedelta

from tests.support.detection import T, at, dropoffs, tick

COMPANY = {"_id": "c-1", "name": "Acme Payroll"}


def forward(client, tenant, callback, payload, when=timedelta(0), **extra):
    body = {"callback": callback, "identifier": "user-8812", "payload": payload, "occurred_at": at(when), **extra}
    return client.post("/v1/webhooks/atomic", json=body, headers=tenant.headers)


def cloud_event(client, tenant, ce_id, body, **headers):
    headers = {"ce-type": "com.atomicfi.task-status-updated", "ce-id": ce_id, **headers, **tenant.headers}
    return client.post("/v1/webhooks/atomic", json=body, headers=headers)


def test_forwarded_mfa_interaction_becomes_a_known_error_dropoff(app, client, acme):
    response = forward(client, acme, "onInteraction", {"name": "Viewed MFA Page", "company": COMPANY})
    assert response.status_code == 200 and response.json["status"] == "created"
    [stored] = client.get("/v1/events", headers=acme.headers).json
    assert stored["type"] == "Viewed MFA Page" and stored["source"] == "atomic-sdk"
    contact = client.get(f"/v1/contacts/{stored['contact_id']}", headers=acme.headers).json
    assert contact["external_id"] == "user-8812"
    tick(app, timedelta(hours=1))
    [dropoff] = dropoffs(client, acme)
    assert dropoff["category"] == "mfa" and dropoff["service"] == "Acme Payroll"


def test_an_identical_forward_is_stored_once(client, acme):
    payload = {"name": "Viewed Login Page"}
    assert forward(client, acme, "onInteraction", payload).json["status"] == "created"
    assert forward(client, acme, "onInteraction", payload).json["status"] == "replayed"
    assert forward(client, acme, "onInteraction", payload, timedelta(minutes=1)).json["status"] == "created"


def test_on_finish_is_a_success(app, client, acme):
    forward(client, acme, "onInteraction", {"name": "Viewed Authentication Failed Page"})
    forward(client, acme, "onFinish", {"taskId": "t-1"}, timedelta(minutes=5))
    tick(app, timedelta(hours=2))
    assert dropoffs(client, acme) == []


def test_close_after_a_deep_step_is_an_unknown_exit(app, client, acme):
    forward(client, acme, "onInteraction", {"name": "Viewed Distribution Confirmation Page"})
    forward(client, acme, "onClose", {"taskId": "t-1", "handoff": None, "reason": "unknown"}, timedelta(minutes=1))
    tick(app, timedelta(hours=1))
    [dropoff] = dropoffs(client, acme)
    assert dropoff["category"] == "unknown_exit" and dropoff["intent"] == "high"


def test_bad_forwards_are_named(client, acme):
    missing = client.post("/v1/webhooks/atomic", json={"callback": "onInteraction", "payload": {}},
                          headers=acme.headers)
    assert {p["field"] for p in missing.json["error"]["details"]["fields"]} == {"identifier"}
    nameless = forward(client, acme, "onInteraction", {"value": 1})
    assert nameless.status_code == 422 and nameless.json["error"]["details"]["fields"][0]["field"] == "payload.name"
    unknown = forward(client, acme, "onExplode", {})
    assert unknown.json["error"]["details"]["fields"][0]["field"] == "callback"


def test_cloud_event_is_stored_once_per_ce_id_and_keeps_its_envelope(client, acme):
    body = {"eventType": "task-status-updated", "eventTime": T.isoformat(), "product": "deposit",
            "user": {"_id": "u-1", "identifier": "user-8812"}, "data": {"status": "failed", "failReason": "x"}}
    first = cloud_event(client, acme, "ce-1", body)
    assert first.status_code == 200 and first.json["status"] == "created"
    assert cloud_event(client, acme, "ce-1", body).json["status"] == "replayed"
    [stored] = client.get("/v1/events", headers=acme.headers).json
    assert stored["type"] == "task-status-updated" and stored["occurred_at"].startswith("2026-03-02T09:00:00")
    assert stored["properties"] == {"status": "failed", "failReason": "x", "envelope": {"product": "deposit"}}


def test_cloud_event_needs_its_id_and_user(client, acme):
    body = {"eventType": "task-status-updated", "user": {"identifier": "user-8812"}, "data": {}}
    response = client.post("/v1/webhooks/atomic", json=body, headers={"ce-type": "com.atomicfi.x", **acme.headers})
    assert response.status_code == 422 and response.json["error"]["details"]["fields"][0]["field"] == "ce-id"
    nobody = cloud_event(client, acme, "ce-2", {"eventType": "x", "data": {}})
    assert nobody.json["error"]["details"]["fields"][0]["field"] == "user"
