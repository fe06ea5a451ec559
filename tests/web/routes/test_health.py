"""Liveness and readiness."""

from app import create_app
from tests.support import settings


def test_livez_answers_without_a_key(client):
    assert client.get("/livez").json == {"status": "ok"}


def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "not configured"}


def test_healthz_is_503_when_redis_is_down(database_url):
    app = create_app(settings(database_url, REDIS_URL="redis://127.0.0.1:1/0"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "degraded" and response.json["redis"].startswith("error")


def test_healthz_is_503_when_the_database_is_down(tmp_path):
    app = create_app(settings("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["database"].startswith("error")
