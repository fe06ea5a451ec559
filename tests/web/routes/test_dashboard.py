"""Dashboard sessions as a browser meets them: the cookie's attributes, sign-out, expiry and sign-in throttling."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from app import create_app
from reengage.platform import db
from tests.results.test_dashboard import csrf_token, sign_in
from tests.support import settings


def test_the_session_cookie_is_http_only_same_site_lax_and_lasts_twelve_hours(client, acme):
    cookie = sign_in(client, acme.key).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    expires = datetime.strptime(cookie.split("Expires=")[1].split(";")[0], "%a, %d %b %Y %H:%M:%S GMT")
    assert abs(expires.replace(tzinfo=UTC) - datetime.now(UTC) - timedelta(hours=12)) < timedelta(minutes=1)


def test_the_session_cookie_is_secure_under_an_https_public_url(app, database_url, acme):
    public = "https://reengage.example.com"
    https_app = create_app(settings(database_url, PUBLIC_URL=public))
    secure = https_app.test_client()
    page = secure.get("/dashboard/sign-in", base_url=public).get_data(as_text=True)
    # Over https, the CSRF check also wants the form to come from this site.
    signed_in = secure.post("/dashboard/sign-in", data={"api_key": acme.key, "csrf_token": csrf_token(page)},
                            base_url=public, headers={"Referer": f"{public}/dashboard/sign-in"})
    with https_app.app_context():
        db.engine().dispose()
    assert signed_in.status_code == 302 and "; Secure" in signed_in.headers["Set-Cookie"]


def test_a_captured_cookie_no_longer_works_after_sign_out(app, client, acme):
    sign_in(client, acme.key)
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    assert thief.get("/dashboard").status_code == 200
    page = client.get("/dashboard").get_data(as_text=True)
    assert client.post("/dashboard/sign-out", data={"csrf_token": csrf_token(page)}).status_code == 302
    assert thief.get("/dashboard").headers["Location"] == "/dashboard/sign-in"


def test_a_session_ends_when_its_time_is_up(app, client, acme):
    sign_in(client, acme.key)
    assert client.get("/dashboard").status_code == 200
    with app.app_context(), db.transaction() as db_session:
        db_session.execute(text("UPDATE dashboard_sessions SET expires_at = :past"),
                           {"past": datetime.now(UTC) - timedelta(seconds=1)})
    assert client.get("/dashboard").headers["Location"] == "/dashboard/sign-in"


def test_failed_sign_ins_from_one_address_are_throttled(app, client, acme):
    for _ in range(10):
        assert sign_in(client, "rk_guess_wrong").status_code == 401
    throttled = sign_in(client, acme.key)
    assert throttled.status_code == 429 and 0 < int(throttled.headers["Retry-After"]) <= 15 * 60
    assert "Too many failed sign-ins" in throttled.get_data(as_text=True)
    elsewhere = app.test_client()
    page = elsewhere.get("/dashboard/sign-in").get_data(as_text=True)
    other = elsewhere.post("/dashboard/sign-in", data={"api_key": acme.key, "csrf_token": csrf_token(page)},
                           environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 302
