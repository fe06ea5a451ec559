"""SendGrid's Event Webhook: signed with SendGrid's ECDSA algorithm, stored once, applied to messages,
suppressions and engagement."""

import base64
import json
import time
from datetime import datetime

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.connections import connect
from tests.support.journeys import DANA, abandon, messages, setup_sales, tick

SIGNATURE, TIMESTAMP = "X-Twilio-Email-Event-Webhook-Signature", "X-Twilio-Email-Event-Webhook-Timestamp"


@pytest.fixture(scope="module")
def signing_key():
    """A key pair like the one SendGrid makes when signing is turned on."""
    return ec.generate_private_key(ec.SECP256R1())


def public_key_text(private_key) -> str:
    der = private_key.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def signed(private_key, body: str, timestamp: str | None = None) -> dict[str, str]:
    """Headers as SendGrid signs a batch: ECDSA P-256 with SHA-256 over the timestamp then the raw body."""
    timestamp = timestamp or str(int(time.time()))
    signature = private_key.sign((timestamp + body).encode(), ec.ECDSA(hashes.SHA256()))
    return {SIGNATURE: base64.b64encode(signature).decode(), TIMESTAMP: timestamp}


@pytest.fixture
def sent(app, client, acme, sendgrid):
    """Dana's first email, sent through SendGrid; answers (message, webhook path)."""
    connect(client, acme)
    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, DANA)
    first = messages(client, acme, enrollment["id"])["1.pick-up"]
    tick(app, datetime.fromisoformat(first["due_at"]))
    message = client.get(f"/v1/messages/{first['id']}", headers=acme.headers).json
    url = client.get("/v1/connections/sendgrid", headers=acme.headers).json["event_webhook_url"]
    return message, url.removeprefix("http://localhost:8000")


def events(message: dict, *kinds: str, **extra) -> list[dict]:
    """SendGrid events of our message, with our custom args at the top level as SendGrid sends them."""
    stamp = int(datetime.fromisoformat(message["sent_at"]).timestamp())
    return [{"email": "dana@example.com", "timestamp": stamp + 60 * (i + 1), "event": kind,
             "sg_event_id": f"evt-{kind}-{i}", "sg_message_id": f"{message['provider_id']}.filter0001.0",
             "category": ["sales", "phase-1"], "reengage_message_id": str(message["id"]),
             "reengage_enrollment_id": str(message["enrollment_id"]), "reengage_account_id": "1", **extra}
            for i, kind in enumerate(kinds)]


def test_delivery_open_and_click_move_the_message_and_raise_engagement(client, acme, sent):
    message, path = sent
    answer = client.post(path, json=events(message, "processed", "delivered", "open", "click",
                                           url="https://app.example.com/resume/77"))
    assert answer.status_code == 200, answer.json
    assert answer.json == {"received": 4, "stored": 3, "replayed": 0, "ignored": 1, "rejected": []}
    shown = client.get(f"/v1/messages/{message['id']}", headers=acme.headers).json
    assert shown["status"] == "clicked" and shown["delivered_at"] and shown["opened_at"] and shown["clicked_at"]
    contact = client.get(f"/v1/contacts/{shown['contact_id']}", headers=acme.headers).json
    assert contact["engagement"] == 4 and contact["engaged_at"]
    clicks = client.get("/v1/events?type=email.clicked", headers=acme.headers).json
    assert clicks[0]["properties"]["url"] == "https://app.example.com/resume/77"


def test_a_batch_replayed_twice_changes_nothing(client, acme, sent):
    message, path = sent
    batch = events(message, "delivered", "open", "click")
    client.post(path, json=batch)
    before = client.get(f"/v1/messages/{message['id']}", headers=acme.headers).json
    again = client.post(path, json=batch).json
    assert again["stored"] == 0 and again["replayed"] == 3
    assert client.get(f"/v1/messages/{message['id']}", headers=acme.headers).json == before
    contact = client.get(f"/v1/contacts/{before['contact_id']}", headers=acme.headers).json
    assert contact["engagement"] == 4


def test_events_arriving_out_of_order_never_move_a_message_back(client, acme, sent):
    message, path = sent
    click, delivered = events(message, "click", "delivered")
    client.post(path, json=[click])
    client.post(path, json=[delivered])
    assert client.get(f"/v1/messages/{message['id']}", headers=acme.headers).json["status"] == "clicked"


@pytest.mark.parametrize(("kind", "extra", "reason"), [
    ("bounce", {"type": "bounce", "reason": "550 5.1.1 unknown user"}, "bounced"),
    ("spamreport", {}, "spam_report"),
    ("unsubscribe", {}, "unsubscribed"),
    ("group_unsubscribe", {"asm_group_id": 4321}, "unsubscribed"),
    ("dropped", {"reason": "Bounced Address"}, "bounced"),
])
def test_a_bounce_report_or_unsubscribe_suppresses_and_nothing_more_is_sent(app, client, acme, sendgrid, sent, kind,
                                                                             extra, reason):
    message, path = sent
    client.post(path, json=events(message, kind, **extra))
    [suppression] = client.get("/v1/suppressions", headers=acme.headers).json
    assert suppression["channel"] == "email" and suppression["reason"] == reason
    enrollment = client.get(f"/v1/enrollments/{message['enrollment_id']}", headers=acme.headers).json
    assert enrollment["status"] == "exited"
    calls = len(sendgrid.sent)
    for later in enrollment["messages"]:
        tick(app, datetime.fromisoformat(later["due_at"]))
    assert len(sendgrid.sent) == calls
    if kind in ("bounce", "dropped"):
        shown = client.get(f"/v1/messages/{message['id']}", headers=acme.headers).json
        assert shown["status"] == ("bounced" if kind == "bounce" else "dropped")


def test_a_blocked_delivery_marks_the_message_but_keeps_the_address(client, acme, sent):
    message, path = sent
    client.post(path, json=events(message, "bounce", type="blocked", reason="421 try again later"))
    assert client.get("/v1/suppressions", headers=acme.headers).json == []
    assert client.get(f"/v1/messages/{message['id']}", headers=acme.headers).json["status"] == "bounced"


def test_a_resubscribe_lifts_the_unsubscribe(client, acme, sent):
    message, path = sent
    client.post(path, json=events(message, "group_unsubscribe"))
    client.post(path, json=[{**events(message, "group_resubscribe")[0], "sg_event_id": "evt-resub"}])
    assert client.get("/v1/suppressions", headers=acme.headers).json == []


def test_mail_we_did_not_send_and_other_accounts_messages_are_ignored(client, acme, globex, sent):
    message, path = sent
    foreign = {**events(message, "open")[0], "sg_event_id": "x1"}
    foreign.pop("reengage_message_id")
    globex_url = client.put("/v1/connections/sendgrid", json={"api_key": "SG.globex-key.abcdef",
                                                              "from_email": "a@globex.com"},
                            headers=globex.headers).json["event_webhook_url"]
    answer = client.post(globex_url.removeprefix("http://localhost:8000"), json=events(message, "open")).json
    assert answer["ignored"] == 1 and answer["stored"] == 0
    assert client.post(path, json=[foreign]).json["ignored"] == 1
    assert client.get(f"/v1/messages/{message['id']}", headers=acme.headers).json["status"] == "sent"


def test_unreadable_items_are_named_and_the_rest_is_kept(client, acme, sent):
    message, path = sent
    good = events(message, "delivered")[0]
    answer = client.post(path, json=[good, {"event": "open"}, "nonsense", {**good, "event": "teleported"}]).json
    assert answer["stored"] == 1
    assert answer["rejected"] == [{"index": 1, "message": "sg_event_id: missing"},
                                  {"index": 2, "message": "each event must be a JSON object"},
                                  {"index": 3, "message": "event: unknown type 'teleported'"}]


def test_a_body_that_is_not_a_batch_is_refused(client, sent):
    _, path = sent
    assert client.post(path, json={"event": "open"}).status_code == 422
    assert client.post(path, data="{nope", content_type="application/json").json["error"]["code"] == "invalid_json"
    assert client.post("/v1/webhooks/sendgrid/not-a-token", json=[]).status_code == 404


def test_signed_batches_are_verified(client, acme, sent, signing_key):
    message, path = sent
    connect(client, acme, event_webhook_public_key=public_key_text(signing_key))
    body = json.dumps(events(message, "delivered"))
    ok = client.post(path, data=body, content_type="application/json", headers=signed(signing_key, body))
    assert ok.status_code == 200 and ok.json["stored"] == 1
    tampered = body.replace("delivered", "open")
    refused = client.post(path, data=tampered, content_type="application/json", headers=signed(signing_key, body))
    assert refused.status_code == 401 and refused.json["error"]["code"] == "invalid_signature"
    other = ec.generate_private_key(ec.SECP256R1())
    wrong = client.post(path, data=body, content_type="application/json", headers=signed(other, body))
    assert wrong.json["error"]["code"] == "invalid_signature"
    stale = signed(signing_key, body, str(int(time.time()) - 3600))
    assert client.post(path, data=body, content_type="application/json", headers=stale).json["error"]["code"] == \
        "stale_signature"
    unsigned = client.post(path, data=body, content_type="application/json")
    assert unsigned.status_code == 401 and unsigned.json["error"]["code"] == "signature_required"


def test_a_key_that_is_not_a_public_key_is_refused_when_saved(client, acme):
    response = client.put("/v1/connections/sendgrid", json={"api_key": "SG.key.abcdefghij", "from_email": "a@b.co",
                                                            "event_webhook_public_key": "x" * 60},
                          headers=acme.headers)
    assert response.status_code == 422
    assert response.json["error"]["details"]["fields"][0]["field"] == "event_webhook_public_key"
