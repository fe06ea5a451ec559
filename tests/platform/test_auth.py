"""API keys: how requests are let in or turned away."""

from reengage.platform.auth import KEY_PREFIX


def test_bearer_key_identifies_the_account(client, acme):
    response = client.get("/v1/me", headers=acme.headers)
    assert response.status_code == 200
    assert response.json == {"id": acme.id, "name": "Acme"}


def test_x_api_key_header_is_accepted(client, acme):
    response = client.get("/v1/me", headers={"X-API-Key": acme.key})
    assert response.json["id"] == acme.id


def test_missing_key_is_401_json(client):
    response = client.get("/v1/me")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert "Authorization: Bearer" in response.json["error"]["message"]


def test_wrong_key_is_401(client, acme):
    tampered = acme.key[:-4] + ("AAAA" if not acme.key.endswith("AAAA") else "BBBB")
    for headers in (
        {"Authorization": f"Bearer {tampered}"},
        {"Authorization": "Bearer rk_unknownpfx_secret"},
        {"Authorization": "Bearer not-a-key"},
        {"Authorization": f"Basic {acme.key}"},
    ):
        response = client.get("/v1/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.json["error"]["code"] == "unauthorized"


def test_keys_are_recognisable_and_not_stored_in_clear(app, acme):
    from sqlalchemy import select

    from reengage.models import ApiKey
    from reengage.platform import db

    assert acme.key.startswith(KEY_PREFIX)
    with app.app_context():
        stored = db.session().scalars(select(ApiKey)).one()
        assert acme.key not in (stored.key_hash, stored.prefix)
        assert acme.key.startswith(f"{KEY_PREFIX}{stored.prefix}_")


def test_revoked_key_stops_working_at_once(app, client, acme):
    runner = app.test_cli_runner()
    assert client.get("/v1/me", headers=acme.headers).status_code == 200
    result = runner.invoke(args=["accounts", "keys", "revoke", acme.key])
    assert result.exit_code == 0, result.output
    response = client.get("/v1/me", headers=acme.headers)
    assert response.status_code == 401
    assert "revoked" in response.json["error"]["message"]


def test_other_keys_of_the_account_survive_a_revocation(app, client, acme):
    runner = app.test_cli_runner()
    second = runner.invoke(args=["accounts", "keys", "create", str(acme.id), "--label", "Zapier"]).output.strip()
    runner.invoke(args=["accounts", "keys", "revoke", acme.key.split("_")[1]])
    assert client.get("/v1/me", headers={"X-API-Key": second}).json["name"] == "Acme"


def test_cached_key_stops_working_once_its_entry_expires(app, client, acme, monkeypatch):
    from reengage.platform import auth

    app.config["API_KEY_CACHE_SECONDS"] = 5
    now = [1000.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: now[0])
    assert client.get("/v1/me", headers=acme.headers).status_code == 200
    app.test_cli_runner().invoke(args=["accounts", "keys", "revoke", acme.key])
    now[0] += 4.9
    assert client.get("/v1/me", headers=acme.headers).status_code == 200
    now[0] += 0.2
    assert client.get("/v1/me", headers=acme.headers).status_code == 401


def test_wrong_keys_are_never_cached(app, client, acme):
    app.config["API_KEY_CACHE_SECONDS"] = 5
    assert client.get("/v1/me", headers={"X-API-Key": acme.key + "x"}).status_code == 401
    assert client.get("/v1/me", headers=acme.headers).status_code == 200
    assert client.get("/v1/me", headers={"X-API-Key": acme.key + "x"}).status_code == 401


def test_a_request_looks_its_key_up_once_though_the_rate_limit_asks_first(client, acme, monkeypatch):
    from reengage.platform import auth

    lookups = []
    original = auth._lookup
    monkeypatch.setattr(auth, "_lookup", lambda *args: lookups.append(args) or original(*args))
    assert client.get("/v1/me", headers=acme.headers).status_code == 200
    assert len(lookups) == 1
