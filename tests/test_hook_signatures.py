"""Hook deliveries as a receiver verifies them: Standard Webhooks (its own library), and the older header alongside."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import update
from standardwebhooks import Webhook, WebhookVerificationError

from reengage.models import Hook
from reengage.platform import db, vault
from tests.support.journeys import DANA, abandon, setup_sales
from tests.test_hooks import DEADLINE, deliveries, subscribe, tick


def test_a_delivery_verifies_with_the_standard_webhooks_library(app, client, acme, receiver):
    setup_sales(client, acme)
    hook = subscribe(client, acme, f"{receiver.url}/zap")
    abandon(app, client, acme, DANA)
    [posted] = receiver.made("POST", "/zap")
    assert Webhook(hook["secret"]).verify(posted.raw, dict(posted.headers)) == posted.json
    [delivery] = deliveries(client, acme, hook["id"])
    assert posted.headers["webhook-id"] == f"msg_{delivery['id']}"
    # The older header, kept for this release, signs the same body at the same time.
    stamp, digest = (part.split("=", 1)[1] for part in posted.headers["Reengage-Signature"].split(","))
    assert stamp == posted.headers["webhook-timestamp"]
    expected = hmac.new(hook["secret"].encode(), f"{stamp}.".encode() + posted.raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(digest, expected)


def test_a_changed_body_or_another_secret_fails_verification(app, client, acme, receiver):
    setup_sales(client, acme)
    hook = subscribe(client, acme, f"{receiver.url}/zap")
    abandon(app, client, acme, DANA)
    [posted] = receiver.made("POST", "/zap")
    for secret, body in ((hook["secret"], posted.raw.replace(b"open", b"shut")),
                         (subscribe(client, acme, f"{receiver.url}/other")["secret"], posted.raw)):
        try:
            Webhook(secret).verify(body, dict(posted.headers))
        except WebhookVerificationError:
            continue
        raise AssertionError("a delivery verified with the wrong body or secret")


def test_a_retried_delivery_keeps_its_webhook_id(app, client, acme, receiver):
    setup_sales(client, acme)
    hook = subscribe(client, acme, f"{receiver.url}/busy")
    receiver.script(429, {"status": "throttled"}, {"Retry-After": "60"})
    abandon(app, client, acme, DANA)
    tick(app, DEADLINE + timedelta(hours=1))
    first, second = receiver.made("POST", "/busy")
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    for posted in (first, second):
        Webhook(hook["secret"]).verify(posted.raw, dict(posted.headers))


def test_a_secret_issued_before_standard_webhooks_verifies_in_standard_base64(app, client, acme, receiver):
    setup_sales(client, acme)
    hook = subscribe(client, acme, f"{receiver.url}/zap")
    legacy = "whsec_" + secrets.token_urlsafe(32)
    while "-" not in legacy and "_" not in legacy:
        legacy = "whsec_" + secrets.token_urlsafe(32)
    with app.app_context(), db.transaction() as session:
        session.execute(update(Hook).where(Hook.id == hook["id"]).values(sealed_secret=vault.seal({"secret": legacy})))
    abandon(app, client, acme, DANA)
    [posted] = receiver.made("POST", "/zap")
    body = legacy.removeprefix("whsec_")
    converted = "whsec_" + body.replace("-", "+").replace("_", "/") + "=" * (-len(body) % 4)
    assert Webhook(converted).verify(posted.raw, dict(posted.headers)) == posted.json
