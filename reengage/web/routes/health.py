"""Liveness, readiness and the API description: open to all, no key needed."""

import time
from datetime import timedelta
from typing import Any

from flask import Flask, Response, current_app
from marshmallow import Schema, fields

from reengage.jobs import ticks
from reengage.models.clock_tick import TICK
from reengage.platform import db, queue, schema
from reengage.platform.blueprint import Blueprint
from reengage.web import telemetry

blp = Blueprint("health", __name__, description="Service health and the API description.")
PUBLIC: dict[str, list[dict[str, list[str]]]] = {"security": []}
OK = "ok"


class LiveSchema(Schema):
    status = fields.String(metadata={"example": "ok"})


class HealthSchema(Schema):
    status = fields.String(metadata={"description": "`ok`; `degraded` (answering, something named in `down` is "
                                                    "not); `unavailable` (503)", "example": "ok"})
    database = fields.String(metadata={"description": "`ok` or the error reaching it", "example": "ok"})
    migrations = fields.String(metadata={"description": "`ok`, what is missing, or `unknown`", "example": "ok"})
    clock = fields.String(metadata={"description": "`ok`, `starting`, how long since the last tick, or `unknown`",
                                    "example": "ok"})
    clock_lag_seconds = fields.Float(allow_none=True, metadata={"description": "Seconds since the last tick.",
                                                                "example": 1.2})
    redis = fields.String(metadata={"description": "`ok`, an error, or `not configured`", "example": "ok"})
    down = fields.List(fields.String(), metadata={"description": "What is not working, readiness or not.",
                                                  "example": []})
    reason = fields.String(allow_none=True, metadata={"description": "Why the service is not ready or degraded.",
                                                      "example": None})


@blp.route("/livez")
@blp.doc(**PUBLIC)
@blp.response(200, LiveSchema)
def live():
    """The process answers (touches nothing else)."""
    return {"status": "ok"}


@blp.route("/healthz")
@blp.doc(**PUBLIC)
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="Not ready: the database, its migrations or the clock.")
def health():
    """Readiness: the database answers at the newest schema and a clock ticks. Redis down is only `degraded`:
    events are still accepted (the clock hands their processing on once it is back)."""
    report: dict[str, Any] = {"database": OK, "migrations": "unknown", "clock": "unknown", "clock_lag_seconds": None}
    try:
        report["migrations"] = schema.behind(db.engine()) or OK
        if report["migrations"] == OK:  # the clock's table comes with the migrations
            report["clock"], report["clock_lag_seconds"] = _check_clock()
    except Exception as error:
        report["database"] = f"error: unreachable ({type(error).__name__})"
    report["redis"] = _check_redis()
    needed = [name for name in ("database", "migrations", "clock") if report[name] not in (OK, "starting", "unknown")]
    down = [name for name in (*needed, "redis") if report[name] not in (OK, "starting", "not configured")]
    report["down"] = down
    report["reason"] = "; ".join(f"{name}: {report[name]}" for name in down) or None
    report["status"] = "unavailable" if needed else "degraded" if down else OK
    return report, 503 if needed else 200


@blp.route("/metrics")
@blp.doc(security=[], responses={
    "200": {"description": "Prometheus series, in its text format.", "content": {"text/plain": {"schema": {
        "type": "string"}}}},
    "401": {"$ref": "#/components/responses/DEFAULT_ERROR"},
    "404": {"$ref": "#/components/responses/DEFAULT_ERROR"}})
def prometheus():
    """Prometheus series, for `Authorization: Bearer <METRICS_TOKEN>` (not an API key)."""
    return telemetry.serve_metrics()


@blp.route("/openapi.yaml")
@blp.doc(**PUBLIC)
@blp.response(200, description="The OpenAPI description of this API, as YAML.")
def openapi_yaml():
    """This API's OpenAPI description."""
    return Response(current_app.extensions["api"].spec.to_yaml(), mimetype="application/yaml")


def _check_clock() -> tuple[str, float | None]:
    interval = current_app.config["CLOCK_INTERVAL_SECONDS"]
    stale = max(interval * current_app.config["CLOCK_STALE_INTERVALS"], current_app.config["CLOCK_STALE_MIN_SECONDS"])
    last = ticks.latest().get(TICK)
    if last is None:
        # A fresh install: give the clock (started with this process, or beside it) its window to tick once.
        waited = time.monotonic() - current_app.extensions["health.started"]
        return ("starting", None) if waited < stale else ("has never ticked: is `flask clock` running?", None)
    lag = (db.utcnow() - last.ticked_at).total_seconds()
    if lag > stale:
        return f"no tick for {timedelta(seconds=round(lag))} (more than {stale:g} s): is `flask clock` running?", lag
    return OK, lag


def _check_redis() -> str:
    connection = queue.redis_connection()
    if connection is None:
        return "not configured"
    try:
        connection.ping()
        return OK
    except Exception as error:
        return f"error: unreachable ({type(error).__name__})"


def init_app(app: Flask) -> None:
    """Note when this process started, so that a clock not ticking yet is told from one that never will."""
    app.extensions["health.started"] = time.monotonic()
