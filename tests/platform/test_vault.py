"""SECRET_KEY rotation: with "new,old" every sealed credential, hook secret and signed link keeps working;
`flask secrets reseal` moves them to the new key so that the old one can go."""

import hashlib
import hmac

from app import create_app
from reengage.sending import unsubscribe
from tests.support import settings
from tests.support.connections import SENDGRID
from tests.support.journeys import DANA, abandon, setup_sales


def rotated_app(database_url, secret_key, sendgrid, receiver):
    return create_app(settings(database_url, SECRET_KEY=secret_key, SENDGRID_API_HOST=sendgrid.url,
                               HOOK_ALLOWED_NETWORKS=("127.0.0.0/8",), HOOK_REQUIRE_HTTPS=False))


def signed_by(posted, secret: str) -> bool:
    stamp, digest = (part.split("=", 1)[1] for part in posted.headers["Reengage-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + posted.raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(digest, expected)


def test_rotating_secret_key_keeps_every_connection_working(app, client, acme, database_url, sendgrid, receiver):
    assert client.put("/v1/connections/sendgrid", json=SENDGRID, headers=acme.headers).status_code == 200
    hook = client.post("/v1/hooks", json={"target_url": f"{receiver.url}/zap", "event": "dropoff.detected"},
                       headers=acme.headers).json
    contact = client.post("/v1/contacts", json=DANA, headers=acme.headers).json
    with app.test_request_context():
        link = unsubscribe.url(acme.id, contact["id"], "email")
    path = link.split("localhost:8000", 1)[1]

    # Deployed with the new key first and the old one after it: everything sealed or signed before still works.
    during = rotated_app(database_url, "new-secret, test-secret", sendgrid, receiver)
    talk = during.test_client()
    assert talk.post("/v1/connections/sendgrid/validate", headers=acme.headers).json["status"] == "ok"
    assert sendgrid.made("GET", "/v3/scopes")[-1].headers["Authorization"] == f"Bearer {SENDGRID['api_key']}"
    assert talk.get(path).status_code == 200
    setup_sales(talk, acme)
    abandon(during, talk, acme, DANA)
    [posted] = receiver.made("POST", "/zap")
    assert signed_by(posted, hook["secret"])

    resealed = during.test_cli_runner().invoke(args=["secrets", "reseal"])
    assert resealed.exit_code == 0 and "Resealed 1 connection(s) and 1 hook secret(s)" in resealed.output

    # The old key removed: credentials and hook secrets were moved to the new one.
    after = rotated_app(database_url, "new-secret", sendgrid, receiver).test_client()
    assert after.post("/v1/connections/sendgrid/validate", headers=acme.headers).json["status"] == "ok"
    assert after.get(f"/v1/hooks/{hook['id']}", headers=acme.headers).status_code == 200
    # A server left on the old key alone can no longer open them, and says so rather than failing.
    stale = rotated_app(database_url, "test-secret", sendgrid, receiver).test_client()
    refused = stale.post("/v1/connections/sendgrid/validate", headers=acme.headers)
    assert "another SECRET_KEY" in refused.get_data(as_text=True)


def test_reseal_stops_without_changing_anything_when_a_value_cannot_be_opened(app, client, acme, database_url,
                                                                              sendgrid, receiver):
    client.put("/v1/connections/sendgrid", json=SENDGRID, headers=acme.headers)
    wrong = rotated_app(database_url, "new-secret, unrelated", sendgrid, receiver)
    result = wrong.test_cli_runner().invoke(args=["secrets", "reseal"])
    assert result.exit_code == 1 and "connection 1: sealed under a SECRET_KEY" in result.output
    assert client.post("/v1/connections/sendgrid/validate", headers=acme.headers).json["status"] == "ok"
