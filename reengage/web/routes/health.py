"""Liveness, readiness and the API description: open to all, no key needed."""

from flask import Response, current_app
from marshmallow import Schema, fields
from sqlalchemy import text

from reengage.platform import db, queue
from reengage.platform.blueprint import Blueprint

blp = Blueprint("health", __name__, description="Service health and the API description.")
PUBLIC: dict[str, list[dict[str, list[str]]]] = {"security": []}


class LiveSchema(Schema):
    status = fields.String(metadata={"example": "ok"})


class HealthSchema(Schema):
    status = fields.String(metadata={"description": "`ok` or `degraded`", "example": "ok"})
    database = fields.String(metadata={"example": "ok"})
    redis = fields.String(metadata={"description": "`ok`, an error, or `not configured`", "example": "ok"})


@blp.route("/livez")
@blp.doc(**PUBLIC)
@blp.response(200, LiveSchema)
def live():
    """The process answers (touches nothing else)."""
    return {"status": "ok"}


@blp.route("/healthz")
@blp.doc(**PUBLIC)
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="A dependency is down.")
def health():
    """The database and (when configured) Redis answer."""
    report = {"database": _check_database(), "redis": _check_redis()}
    healthy = all(value in ("ok", "not configured") for value in report.values())
    report["status"] = "ok" if healthy else "degraded"
    return report, 200 if healthy else 503


@blp.route("/openapi.yaml")
@blp.doc(**PUBLIC)
@blp.response(200, description="The OpenAPI description of this API, as YAML.")
def openapi_yaml():
    """This API's OpenAPI description."""
    return Response(current_app.extensions["api"].spec.to_yaml(), mimetype="application/yaml")


def _check_database() -> str:
    try:
        with db.engine().connect() as connection:
            connection.execute(text("SELECT 1"))
        return "ok"
    except Exception as error:
        return f"error: {type(error).__name__}"


def _check_redis() -> str:
    connection = queue.redis_connection()
    if connection is None:
        return "not configured"
    try:
        connection.ping()
        return "ok"
    except Exception as error:
        return f"error: {type(error).__name__}"
