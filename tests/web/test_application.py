import pytest
from flask import session

from reengage.web.application import CookieSessions


class Hooks:
    def before(self) -> None:
        """A hook registered as a bound method."""


def test_plain_views_and_hooks_are_run_as_they_are(app):
    def view() -> str:
        return "ok"

    hooks = Hooks()
    assert app.ensure_sync(view) is view
    assert app.ensure_sync(hooks.before) == hooks.before


def test_a_coroutine_view_is_left_to_flask(app):
    async def view() -> str:
        return "ok"

    try:
        synced = app.ensure_sync(view)
    except RuntimeError as error:  # Flask's answer without its async extra installed
        assert "async" in str(error)
    else:
        assert synced is not view


def test_a_request_without_a_session_cookie_gets_an_empty_session_without_the_signer(app, monkeypatch):
    def no_signer(_self, _app):
        raise AssertionError("the signer was built for a request without a session cookie")

    with app.test_request_context("/livez"):
        monkeypatch.setattr(CookieSessions, "get_signing_serializer", no_signer)
        opened = app.session_interface.open_session(app, app.request_class({"REQUEST_METHOD": "GET"}))
        assert opened is not None and dict(opened) == {}


def test_a_session_cookie_is_still_read_and_answers_without_one_set_none(app, client):
    @app.route("/test-session/<value>")
    def keep(value: str) -> str:
        session["seen"] = value
        return "kept"

    @app.route("/test-session")
    def read() -> str:
        return session.get("seen", "none")

    answer = client.get("/test-session/blue")
    assert "session=" in answer.headers["Set-Cookie"]
    assert client.get("/test-session").text == "blue"
    fresh = app.test_client()
    answer = fresh.get("/test-session")
    assert answer.text == "none" and "Set-Cookie" not in answer.headers


@pytest.mark.parametrize("path", ["/livez", "/v1/me"])
def test_an_api_answer_sets_no_cookie(client, acme, path):
    assert "Set-Cookie" not in client.get(path, headers=acme.headers).headers
