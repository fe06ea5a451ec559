"""REST hooks through HTTP and the clock: subscribe, signed deliveries, filters, 410, 429, retries, SSRF guard."""

import hashlib
import hmac
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from reengage import hooks
from reengage.jobs import clock
from reengage.models import HookDelivery
from reengage.platform import db
from tests.support import event
from tests.support.journeys import DANA, T, abandon, messages, setup_sales, tick

DEADLINE = T + timedelta(hours=24)


def subscribe(client, tenant, url, event_key="dropoff.detected", **body):
    response = client.post("/v1/hooks", json={"target_url": url, "event": event_key, **body}, headers=tenant.headers)
    assert response.status_code == 201, response.json
    return response.json


def deliveries(client, tenant, hook_id):
    response = client.get(f"/v1/hooks/{hook_id}/deliveries", headers=tenant.headers)
    assert response.status_code == 200, response.json
    return response.json


def test_a_new_dropoff_is_posted_signed_in_the_polling_shape(app, client, acme, receiver):
    setup_sales(client, acme)
    hook = subscribe(client, acme, f"{receiver.url}/zap", label="zapier")
    assert hook["secret"].startswith("whsec_") and "secret" not in client.get("/v1/hooks", headers=acme.headers).json[0]
    abandon(app, client, acme, DANA)
    [posted] = receiver.made("POST", "/zap")
    [polled] = client.get("/v1/triggers/dropoff.detected", headers=acme.headers).json
    # The item as it was when detected (a poll now shows it enrolled), in the same shape and with the same id.
    assert set(posted.json) == set(polled) and posted.json["id"] == polled["id"] and posted.json["status"] == "open"
    stamp, digest = (part.split("=", 1)[1] for part in posted.headers["Reengage-Signature"].split(","))
    expected = hmac.new(hook["secret"].encode(), f"{stamp}.".encode() + posted.raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(digest, expected)
    assert posted.headers["Reengage-Event"] == "dropoff.detected" and posted.headers["Reengage-Hook"] == str(hook["id"])
    [delivery] = deliveries(client, acme, hook["id"])
    assert delivery["status"] == "delivered" and delivery["history"][0]["status"] == 200
    assert delivery["item_id"] == str(polled["id"])


def test_filters_choose_which_items_are_posted(app, client, acme, receiver):
    setup_sales(client, acme)
    subscribe(client, acme, f"{receiver.url}/other", filters={"stage": "onboarding"})
    subscribe(client, acme, f"{receiver.url}/sales", filters={"scenario": "sales.application_abandoned"})
    abandon(app, client, acme, DANA)
    assert len(receiver.made("POST", "/sales")) == 1 and receiver.made("POST", "/other") == []


def test_a_410_removes_the_hook_and_nothing_more_is_posted(app, client, acme, receiver):
    setup_sales(client, acme)
    hook = subscribe(client, acme, f"{receiver.url}/gone")
    receiver.script(410, {"status": "gone"})
    abandon(app, client, acme, DANA)
    assert client.get("/v1/hooks", headers=acme.headers).json == []
    assert client.get(f"/v1/hooks/{hook['id']}", headers=acme.headers).status_code == 404
    [delivery] = deliveries(client, acme, hook["id"])
    assert delivery["status"] == "cancelled" and delivery["history"][0]["status"] == 410
    abandon(app, client, acme, {**DANA, "external_id": "kim", "email": "kim@example.com", "phone": "+14155550100"},
            key="s2", at=T + timedelta(hours=1))
    assert len(receiver.requests) == 1


def test_a_429_waits_for_retry_after(app, client, acme, receiver):
    setup_sales(client, acme)
    hook = subscribe(client, acme, f"{receiver.url}/busy")
    receiver.script(429, {"status": "throttled"}, {"Retry-After": "120"})
    abandon(app, client, acme, DANA)
    [delivery] = deliveries(client, acme, hook["id"])
    assert delivery["status"] == "pending" and delivery["attempts"] == 1
    retry_at = datetime.fromisoformat(delivery["due_at"])
    assert retry_at == DEADLINE + timedelta(seconds=120)
    tick(app, retry_at - timedelta(seconds=1))
    assert len(receiver.requests) == 1
    tick(app, retry_at)
    [delivery] = deliveries(client, acme, hook["id"])
    assert len(receiver.requests) == 2 and delivery["status"] == "delivered"
    assert [a["status"] for a in delivery["history"]] == [429, 200]


def test_server_errors_back_off_then_fail_after_the_last_attempt(app, client, acme, receiver):
    app.config["HOOK_MAX_ATTEMPTS"] = 3
    setup_sales(client, acme)
    hook = subscribe(client, acme, f"{receiver.url}/down")
    for _ in range(3):
        receiver.script(503, {"status": "down"})
    abandon(app, client, acme, DANA)
    [delivery] = deliveries(client, acme, hook["id"])
    assert datetime.fromisoformat(delivery["due_at"]) == DEADLINE + timedelta(seconds=30)
    tick(app, DEADLINE + timedelta(seconds=30))
    [delivery] = deliveries(client, acme, hook["id"])
    assert datetime.fromisoformat(delivery["due_at"]) == DEADLINE + timedelta(seconds=90)
    tick(app, DEADLINE + timedelta(seconds=90))
    [delivery] = deliveries(client, acme, hook["id"])
    assert delivery["status"] == "failed" and delivery["attempts"] == 3 and "503" in delivery["reason"]


def test_a_delivery_job_run_twice_posts_once(app, client, acme, receiver):
    setup_sales(client, acme)
    hook = subscribe(client, acme, f"{receiver.url}/once")
    abandon(app, client, acme, DANA)
    [delivery] = deliveries(client, acme, hook["id"])
    with app.app_context():
        assert hooks.deliver([delivery["id"]]) == {}
    assert len(receiver.requests) == 1


def test_publishing_an_item_again_stores_no_second_delivery(app, client, acme, receiver):
    setup_sales(client, acme)
    hook = subscribe(client, acme, f"{receiver.url}/again")
    abandon(app, client, acme, DANA)
    [delivery] = deliveries(client, acme, hook["id"])
    with app.app_context(), db.transaction():
        assert hooks.publish("dropoff.detected", {acme.id: [int(delivery["item_id"])]}) == 1  # offered, not stored
    tick(app, DEADLINE + timedelta(minutes=1))
    assert len(deliveries(client, acme, hook["id"])) == 1 and len(receiver.requests) == 1


def test_a_delivery_whose_job_was_lost_is_posted_again(app, client, acme, receiver):
    setup_sales(client, acme)
    hook = subscribe(client, acme, f"{receiver.url}/lost")
    receiver.script(503)
    abandon(app, client, acme, DANA)
    [delivery] = deliveries(client, acme, hook["id"])
    with app.app_context(), db.transaction() as session:  # handed to a job that never ran
        session.execute(update(HookDelivery).where(HookDelivery.id == delivery["id"])
                        .values(status="queued", queued_at=DEADLINE))
    tick(app, DEADLINE + timedelta(seconds=299))
    assert len(receiver.requests) == 1
    tick(app, DEADLINE + timedelta(seconds=301))
    [delivery] = deliveries(client, acme, hook["id"])
    assert len(receiver.requests) == 2 and delivery["status"] == "delivered"


def test_a_post_cut_off_is_in_the_history_and_goes_again_within_the_attempt_limit(app, client, acme, receiver,
                                                                                 monkeypatch):
    from rq.timeouts import JobTimeoutException

    def cut_off(*args, **kwargs):
        raise JobTimeoutException("Task exceeded maximum timeout value")  # what RQ raises in a job it stops

    app.config["HOOK_MAX_ATTEMPTS"] = 2
    setup_sales(client, acme)
    hook = subscribe(client, acme, f"{receiver.url}/slow")
    monkeypatch.setattr(hooks.webhook, "post", cut_off)
    abandon(app, client, acme, DANA)
    [delivery] = deliveries(client, acme, hook["id"])
    assert delivery["status"] == "sending" and delivery["attempts"] == 1
    assert [attempt["status"] for attempt in delivery["history"]] == [None]
    assert delivery["history"][0]["error"].startswith("interrupted")
    tick(app, DEADLINE + timedelta(seconds=119))
    assert deliveries(client, acme, hook["id"])[0]["status"] == "sending"
    tick(app, DEADLINE + timedelta(seconds=121))  # cut off: the next attempt waits its pause (30 s)
    [delivery] = deliveries(client, acme, hook["id"])
    assert delivery["status"] == "pending" and delivery["reason"].startswith("retrying after: interrupted")
    tick(app, DEADLINE + timedelta(seconds=152))  # cut off again: that was the last attempt
    tick(app, DEADLINE + timedelta(seconds=400))
    [delivery] = deliveries(client, acme, hook["id"])
    assert delivery["status"] == "failed" and delivery["attempts"] == 2 and len(delivery["history"]) == 2
    assert delivery["reason"].startswith("out of attempts")
    monkeypatch.undo()
    tick(app, DEADLINE + timedelta(hours=2))
    assert receiver.requests == [] and deliveries(client, acme, hook["id"])[0]["attempts"] == 2


def test_an_answered_post_is_recorded_as_one_attempt(app, client, acme, receiver):
    setup_sales(client, acme)
    hook = subscribe(client, acme, f"{receiver.url}/ok")
    abandon(app, client, acme, DANA)
    [delivery] = deliveries(client, acme, hook["id"])
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1
    assert [(attempt["status"], attempt["error"]) for attempt in delivery["history"]] == [(200, None)]


def test_unsubscribing_cancels_what_waits_and_is_idempotent(app, client, acme, receiver):
    setup_sales(client, acme)
    hook = subscribe(client, acme, f"{receiver.url}/later")
    receiver.script(500)
    abandon(app, client, acme, DANA)
    assert client.delete(f"/v1/hooks/{hook['id']}", headers=acme.headers).status_code == 204
    assert client.delete(f"/v1/hooks/{hook['id']}", headers=acme.headers).status_code == 204
    tick(app, DEADLINE + timedelta(hours=2))
    [delivery] = deliveries(client, acme, hook["id"])
    assert delivery["status"] == "cancelled" and len(receiver.requests) == 1


def test_webhook_messages_recoveries_and_engagement_are_posted(app, client, acme, receiver):
    setup_sales(client, acme)
    for key in ("message.due", "contact.recovered", "contact.engaged"):
        subscribe(client, acme, f"{receiver.url}/{key}", key)
    enrollment = abandon(app, client, acme, DANA)
    nudge = messages(client, acme, enrollment["id"])["1.text-nudge"]
    tick(app, datetime.fromisoformat(nudge["due_at"]))
    [due] = [r.json for r in receiver.made("POST", "/message.due")]
    assert due["id"] == nudge["id"] and due["hint"] == "sms"
    after = datetime.fromisoformat(nudge["due_at"]) + timedelta(minutes=5)
    for key, type_ in (("r1", "sms.replied"), ("done", "application_completed")):
        body = event(key, type=type_, occurred_at=after.isoformat(), contact={"external_id": "dana"}, value=99)
        assert client.post("/v1/events", json=body, headers=acme.headers).status_code == 200
    clock.tick(app)  # the events were processed as they arrived, now: so are their deliveries due
    [engaged] = [r.json for r in receiver.made("POST", "/contact.engaged")]
    [recovered] = [r.json for r in receiver.made("POST", "/contact.recovered")]
    assert engaged["engagement"] == "replied" and recovered["revenue"] == 99.0 and recovered["flow"] == "sales"
    assert recovered == client.get("/v1/triggers/contact.recovered", headers=acme.headers).json[0]


@pytest.mark.parametrize(("body", "field"), [
    ({"target_url": "http://10.1.2.3/hook"}, "target_url"),
    ({"target_url": "http://localhost:1/hook"}, "target_url"),
    ({"target_url": "http://unresolvable.invalid/hook"}, "target_url"),
    ({"target_url": "ftp://example.com/hook"}, "target_url"),
    ({"event": "dropoff.exploded"}, "event"),
    ({"filters": {"intent": "extreme"}}, "filters.intent"),
    ({"filters": {"colour": "red"}}, "filters.colour"),
])
def test_bad_subscriptions_are_refused_naming_the_field(client, acme, body, field):
    response = client.post("/v1/hooks", json={"target_url": "https://127.0.0.1/x", "event": "dropoff.detected",
                                              **body}, headers=acme.headers)
    assert response.status_code == 422, response.json
    assert response.json["error"]["details"]["fields"][0]["field"] == field


def test_https_is_required_in_production(app, client, acme):
    app.config["HOOK_REQUIRE_HTTPS"], app.config["HOOK_ALLOWED_NETWORKS"] = True, ("127.0.0.0/8",)
    response = client.post("/v1/hooks", json={"target_url": "http://127.0.0.1/x", "event": "dropoff.detected"},
                           headers=acme.headers)
    assert response.status_code == 422 and "https" in response.json["error"]["message"]


def test_another_accounts_items_are_never_posted_to_a_hook(app, client, acme, globex, receiver):
    setup_sales(client, acme)
    for key in ("dropoff.detected", "message.due", "contact.recovered", "contact.engaged"):
        subscribe(client, globex, f"{receiver.url}/globex/{key}", key)
    enrollment = abandon(app, client, acme, DANA)
    nudge = messages(client, acme, enrollment["id"])["1.text-nudge"]
    tick(app, datetime.fromisoformat(nudge["due_at"]))
    for key, type_ in (("r1", "email.replied"), ("done", "application_completed")):
        body = event(key, type=type_, occurred_at=nudge["due_at"], contact={"external_id": "dana"})
        assert client.post("/v1/events", json=body, headers=acme.headers).status_code == 200
    clock.tick(app)
    assert client.get("/v1/triggers/contact.recovered", headers=acme.headers).json != []
    assert receiver.requests == []


def test_another_accounts_hooks_are_not_found(client, acme, globex, receiver):
    hook = subscribe(client, acme, f"{receiver.url}/mine")
    assert client.get(f"/v1/hooks/{hook['id']}", headers=globex.headers).status_code == 404
    assert client.delete(f"/v1/hooks/{hook['id']}", headers=globex.headers).status_code == 404
    assert client.get(f"/v1/hooks/{hook['id']}/deliveries", headers=globex.headers).status_code == 404
    assert client.get("/v1/hooks", headers=globex.headers).json == []


@pytest.mark.parametrize("host", ["[64:ff9b::7f00:1]", "[64:ff9b::808:808]", "[2002:7f00:1::]", "[2002:808:808::1]",
                                  "[::7f00:1]", "224.0.0.1", "239.1.2.3", "[ff0e::1]", "[ff02::1]"])
def test_nat64_6to4_and_multicast_targets_are_refused(client, acme, host):
    response = client.post("/v1/hooks", json={"target_url": f"https://{host}/hook", "event": "dropoff.detected"},
                           headers=acme.headers)
    assert response.status_code == 422, response.json
    assert response.json["error"]["details"]["fields"][0]["field"] == "target_url"
