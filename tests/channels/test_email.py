"""Email through SendGrid: the SDK against a local SendGrid, every failure kind mapped."""

from datetime import datetime, timedelta

from connectors.sendgrid import SendGrid
from tests.support.connections import connect
from tests.support.journeys import DANA, abandon, messages, setup_sales, tick


def first_email(app, client, tenant):
    """Dana abandons; her first email falls due and the clock sends it. Answer it (as the API shows it)."""
    setup_sales(client, tenant)
    enrollment = abandon(app, client, tenant, DANA)
    first = messages(client, tenant, enrollment["id"])["1.pick-up"]
    tick(app, datetime.fromisoformat(first["due_at"]))
    return client.get(f"/v1/messages/{first['id']}", headers=tenant.headers).json


def test_an_email_goes_through_sendgrid_with_our_ids_and_one_click_unsubscribe(app, client, acme, sendgrid):
    connect(client, acme, reply_to="support@acme.com", unsubscribe_group_id=4321)
    message = first_email(app, client, acme)
    assert message["status"] == "sent" and message["provider"] == "sendgrid"
    [body] = sendgrid.sent
    assert message["provider_id"].startswith("fake-")
    assert body["from"] == {"email": "hello@acme.com", "name": "Acme"}
    assert body["reply_to"] == {"email": "support@acme.com"}
    [personalization] = body["personalizations"]
    assert personalization["to"] == [{"email": "dana@example.com"}]
    args = {**body.get("custom_args", {}), **personalization.get("custom_args", {})}
    assert args == {"reengage_message_id": str(message["id"]), "reengage_enrollment_id": str(message["enrollment_id"]),
                    "reengage_account_id": str(acme.id)}
    assert sorted(body["categories"]) == ["phase-1", "sales"]
    assert body["asm"] == {"group_id": 4321}
    headers = {**body.get("headers", {}), **personalization.get("headers", {})}
    assert headers["List-Unsubscribe"] == f"<{message['content']['unsubscribe_url']}>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    kinds = {part["type"]: part["value"] for part in body["content"]}
    assert body["subject"] == message["content"]["subject"] and "Dana" in kinds["text/plain"]
    assert "<a " in kinds["text/html"] and "dana@example.com" not in str(args)


def test_a_dynamic_template_step_sends_the_template_and_its_data(app, client, acme, sendgrid):
    connect(client, acme)
    flow = setup_sales(client, acme)
    phases = flow["phases"]
    phases[0]["steps"][0] = {**phases[0]["steps"][0], "sendgrid_template_id": "d-0123456789abcdef0123456789abcdef"}
    phases[0]["steps"][0].pop("body", None)
    patched = client.patch(f"/v1/flows/{flow['id']}", json={"phases": phases}, headers=acme.headers)
    assert patched.status_code == 200, patched.json
    enrollment = abandon(app, client, acme, DANA)
    first = messages(client, acme, enrollment["id"])["1.pick-up"]
    tick(app, datetime.fromisoformat(first["due_at"]))
    [body] = sendgrid.sent
    assert body["template_id"] == "d-0123456789abcdef0123456789abcdef"
    data = body["personalizations"][0]["dynamic_template_data"]
    assert data["first_name"] == "Dana" and data["unsubscribe_url"].startswith("http://localhost:8000/u/")
    assert "content" not in body


def test_a_refused_key_fails_the_message_and_marks_the_connection_broken(app, client, acme, sendgrid):
    connect(client, acme, api_key="SG.revoked.key-zzzz")
    message = first_email(app, client, acme)
    assert message["status"] == "failed" and message["reason"].startswith("config: SendGrid refused the API key (401)")
    connection = client.get("/v1/connections/sendgrid", headers=acme.headers).json
    assert connection["status"] == "broken" and "401" in connection["status_reason"]


def test_a_broken_connection_fails_fast_until_it_is_fixed(app, client, acme, sendgrid):
    connect(client, acme, api_key="SG.revoked.key-zzzz")
    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, DANA)
    steps = messages(client, acme, enrollment["id"])
    tick(app, datetime.fromisoformat(steps["1.pick-up"]["due_at"]))
    calls = len(sendgrid.requests)
    email_steps = sorted((m for m in steps.values() if m["channel"] == "email"), key=lambda m: m["due_at"])
    tick(app, datetime.fromisoformat(email_steps[1]["due_at"]))
    assert len(sendgrid.requests) == calls
    second = client.get(f"/v1/messages/{email_steps[1]['id']}", headers=acme.headers).json
    assert second["status"] == "failed" and "PUT /v1/connections/sendgrid" in second["reason"]


def test_rate_limited_sends_wait_for_sendgrids_reset(app, client, acme, sendgrid):
    connect(client, acme)
    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, DANA)
    first = messages(client, acme, enrollment["id"])["1.pick-up"]
    due = datetime.fromisoformat(first["due_at"])
    reset = int(datetime.now().timestamp()) + 120
    sendgrid.script(429, {"errors": [{"message": "too many requests"}]},
                    {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)})
    tick(app, due)
    waiting = client.get(f"/v1/messages/{first['id']}", headers=acme.headers).json
    assert waiting["status"] == "scheduled" and "rate limit" in waiting["reason"]
    delay = datetime.fromisoformat(waiting["due_at"]) - due
    assert timedelta(seconds=100) <= delay <= timedelta(seconds=121)
    tick(app, datetime.fromisoformat(waiting["due_at"]))
    assert client.get(f"/v1/messages/{first['id']}", headers=acme.headers).json["status"] == "sent"


def test_server_errors_are_retried_and_a_refused_message_is_not(app, client, acme, sendgrid):
    connect(client, acme)
    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, DANA)
    first = messages(client, acme, enrollment["id"])["1.pick-up"]
    sendgrid.script(503, {"errors": [{"message": "Service Unavailable"}]})
    tick(app, datetime.fromisoformat(first["due_at"]))
    retried = client.get(f"/v1/messages/{first['id']}", headers=acme.headers).json
    assert retried["status"] == "scheduled" and retried["reason"].startswith("retrying after: SendGrid failed (503)")
    sendgrid.script(400, {"errors": [{"field": "from", "message": "The from address does not match a verified "
                                                                  "Sender Identity."}]})
    tick(app, datetime.fromisoformat(retried["due_at"]))
    refused = client.get(f"/v1/messages/{first['id']}", headers=acme.headers).json
    assert refused["status"] == "failed" and "verified Sender Identity" in refused["reason"]


def test_without_sendgrid_email_stays_in_the_outbox(app, client, acme):
    message = first_email(app, client, acme)
    assert message["status"] == "sent" and message["provider"] == "outbox"


def test_eu_residency_sends_through_the_eu_host():
    assert SendGrid("SG.key.abcdefghij", "eu").host == "https://api.eu.sendgrid.com"
    assert SendGrid("SG.key.abcdefghij").host == "https://api.sendgrid.com"
