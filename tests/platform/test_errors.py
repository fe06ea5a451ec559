"""The one error handler: every failure is JSON with a code, a message and details."""

import pytest


def assert_error(response, status, code):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert set(response.json["error"]) == {"code", "message", "details"}
    assert response.json["error"]["code"] == code


def test_unknown_route_is_404_json(client):
    assert_error(client.get("/v1/nothing-here"), 404, "not_found")
    assert_error(client.get("/"), 404, "not_found")


def test_wrong_method_is_405_json_with_allow(client, acme):
    response = client.delete("/v1/events", headers=acme.headers)
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_malformed_json_is_400(client, acme):
    response = client.post("/v1/events", data="{oops", headers={**acme.headers, "Content-Type": "application/json"})
    assert_error(response, 400, "invalid_json")
    response = client.post("/v1/contacts", data="{oops", headers={**acme.headers, "Content-Type": "application/json"})
    assert_error(response, 400, "invalid_json")


def test_json_nested_too_deeply_is_400(client, acme):
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/v1/events", data=body, headers={**acme.headers, "Content-Type": "application/json"})
    assert_error(response, 400, "invalid_json")


def test_body_that_is_not_json_is_415(client, acme):
    assert_error(client.post("/v1/events", data="id=1", headers=acme.headers), 415, "unsupported_media_type")


@pytest.fixture
def broken_app(database_url):
    from app import create_app
    from tests.support import settings

    application = create_app(settings(database_url))

    @application.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    return application


def test_unexpected_error_is_500_json_without_internals(broken_app, caplog):
    response = broken_app.test_client().get("/boom")
    assert_error(response, 500, "internal_error")
    assert "secret internals" not in response.get_data(as_text=True)
    assert "secret internals" in caplog.text
