"""Liveness and readiness: what a load balancer and an orchestrator read."""

import re
from datetime import timedelta

from sqlalchemy import create_engine, text

from app import create_app
from reengage.jobs import clock
from reengage.models import ClockTick
from reengage.platform import db, schema
from tests.support import event, settings


def test_livez_answers_without_a_key(client):
    assert client.get("/livez").json == {"status": "ok"}


def test_healthz_is_ready_while_the_first_tick_is_awaited(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "migrations": "ok", "clock": "starting",
                             "clock_lag_seconds": None, "redis": "not configured", "down": [], "reason": None}


def test_healthz_is_503_once_the_clock_stops_ticking(app, client):
    clock.tick(app)
    ready = client.get("/healthz").json
    assert ready["clock"] == "ok" and 0 <= ready["clock_lag_seconds"] < 30
    with app.app_context(), db.transaction() as session:
        for row in session.query(ClockTick):
            row.ticked_at -= timedelta(seconds=31)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable" and response.json["down"] == ["clock"]
    # 31 s and however long the request took to come, on a busy machine.
    assert re.search(r"no tick for 0:00:3\d", response.json["reason"]) and "flask clock" in response.json["reason"]
    clock.tick(app)
    assert client.get("/healthz").status_code == 200


def test_healthz_is_503_when_the_clock_never_ticked(database_url):
    app = create_app(settings(database_url, CLOCK_STALE_MIN_SECONDS=0, CLOCK_INTERVAL_SECONDS=0))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["clock"].startswith("has never ticked")


def test_redis_down_is_degraded_but_ready_and_events_are_still_accepted(database_url, acme):
    app = create_app(settings(database_url, REDIS_URL="redis://127.0.0.1:1/0", JOBS_INLINE=False))
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "degraded" and response.json["down"] == ["redis"]
    assert response.json["redis"].startswith("error") and response.json["reason"].startswith("redis: error")
    posted = client.post("/v1/events", json=event("during-outage"), headers=acme.headers)
    assert posted.status_code == 200 and posted.json["status"] == "created"
    assert client.get("/v1/events", headers=acme.headers).json[0]["id"] == "during-outage"


def test_healthz_is_503_when_the_database_is_down():
    app = create_app(settings("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["database"].startswith("error")
    assert response.json["down"] == ["database"] and response.json["migrations"] == "unknown"


def test_an_unmigrated_database_is_not_ready_and_says_how_to_fix_it(unmigrated_url):
    client = create_app(settings(unmigrated_url)).test_client()
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json["down"] == ["migrations"]
    assert "never migrated" in response.json["migrations"] and "run flask db upgrade" in response.json["reason"]


def test_the_api_on_an_unmigrated_database_answers_503_naming_the_fix(unmigrated_url):
    client = create_app(settings(unmigrated_url)).test_client()
    response = client.get("/v1/me", headers={"X-API-Key": "rk_abcdefghij_" + "x" * 30})
    assert response.status_code == 503
    assert response.json["error"]["code"] == "not_migrated"
    assert "run flask db upgrade" in response.json["error"]["message"]


def test_a_database_one_migration_behind_is_not_ready(unmigrated_url):
    from alembic import command

    command.upgrade(db.alembic_config(unmigrated_url), "0011")
    response = create_app(settings(unmigrated_url)).test_client().get("/healthz")
    assert response.status_code == 503
    assert f"is at 0011, the code needs {', '.join(sorted(schema.heads()))}" in response.json["migrations"]
    engine = create_engine(unmigrated_url)
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "0011"
    engine.dispose()
