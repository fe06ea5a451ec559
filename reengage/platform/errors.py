"""One error handler: every failure leaves as JSON {"error": {"code", "message", "details"}}."""

import logging
from typing import Any

from flask import Flask, Response, jsonify
from marshmallow import ValidationError
from sqlalchemy.exc import OperationalError, ProgrammingError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from reengage.platform import db, schema

log = logging.getLogger(__name__)

# Machine-readable codes for the HTTP errors that Flask and Werkzeug raise themselves.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
}
# The most of one input an error repeats back.
MAX_ECHO = 200


class ApiError(Exception):
    """An error the caller can act on, answered with `status` and a stable `code`."""

    def __init__(self, status: int, code: str, message: str, details: Any = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details if details is not None else {}
        self.headers = headers or {}


def invalid_json() -> ApiError:
    """The error for a body that does not parse as JSON."""
    return ApiError(400, "invalid_json", "The body is not valid JSON.")


def invalid(messages: dict | list, prefix: str = "") -> ApiError:
    """A 422 naming every bad field of marshmallow's `messages`."""
    problems = [{"field": field, "message": text} for field, text in flatten(messages, prefix)]
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return ApiError(422, "validation_error", f"Invalid input: {summary}{more}", {"fields": problems})



def field_error(field: str, message: str) -> ApiError:
    """The 422 for one bad field, in the shape every validation error has (raise it)."""
    return invalid({field: [message]})


def flatten(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Turn marshmallow's nested error messages into (field path, message) pairs."""
    if isinstance(messages, str):
        return [(prefix or "body", messages)]
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [(prefix or "body", m) for m in messages]
    pairs: list[tuple[str, str]] = []
    items = messages.items() if isinstance(messages, dict) else enumerate(messages)
    for key, value in items:
        if key == "_schema":
            path = prefix or "body"
        elif isinstance(key, int):
            path = f"{prefix}[{key}]"
        else:
            path = f"{prefix}.{key}" if prefix else str(key)
        pairs.extend(flatten(value, path))
    return pairs


def clipped(value: Any, limit: int = MAX_ECHO) -> Any:
    """`value` with every string cut to `limit` characters, so an error never echoes a huge input back."""
    if isinstance(value, str):
        return value if len(value) <= limit else f"{value[:limit]}… ({len(value)} characters)"
    if isinstance(value, dict):
        return {clipped(key, limit): clipped(item, limit) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clipped(item, limit) for item in value]
    return value


def error_response(status: int, code: str, message: str, details: Any = None, headers: dict | None = None) -> Response:
    """Build the JSON error answer."""
    body = {"code": code, "message": clipped(message, 5 * MAX_ECHO), "details": clipped(details or {})}
    response = jsonify({"error": body})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def http_error(error: HTTPException) -> Response:
    """Answer a Werkzeug HTTP error (including webargs' 422) as JSON."""
    status = error.code or 500
    messages = (getattr(error, "data", None) or {}).get("messages")
    if status == 400 and messages:
        return api_error(invalid_json())
    if status == 422 and messages:
        # webargs nests errors under the request location ("json", "query"); drop that level.
        located = messages.get("json", messages) if isinstance(messages, dict) else messages
        if isinstance(located, dict) and set(located) <= {"query", "path", "headers", "json"}:
            located = {k: v for part in located.values() for k, v in part.items()}
        return api_error(invalid(located))
    headers: dict[str, Any] = {}
    if isinstance(error, MethodNotAllowed):
        headers = {"Allow": error.valid_methods and ", ".join(error.valid_methods)}
    return error_response(status, HTTP_CODES.get(status, "http_error"), error.description or error.name, None, headers)


def api_error(error: ApiError) -> Response:
    """Answer an ApiError."""
    return error_response(error.status, error.code, error.message, error.details, error.headers)


def validation_error(error: ValidationError) -> Response:
    """Answer a marshmallow error raised outside webargs."""
    return api_error(invalid(error.messages))


def database_busy(error: OperationalError) -> Response:
    """Answer 503 when the database cannot be reached or stays locked, so callers retry."""
    if (unmigrated := not_migrated()) is not None:
        return unmigrated
    log.warning("database unavailable: %s", error)
    return error_response(503, "unavailable", "The database is busy or unreachable; retry shortly.",
                          None, {"Retry-After": "5"})


def missing_schema(error: ProgrammingError) -> Response:
    """Answer 503 naming the fix when a query fails because migrations were not run; else it is a bug."""
    return not_migrated() or unexpected(error)


def not_migrated() -> Response | None:
    """The 503 for a database behind the code's migrations, or None when it is current (or unreachable)."""
    try:
        reason = schema.behind(db.engine())
    except Exception:
        return None
    if reason is None:
        return None
    log.error("the database is not migrated: %s", reason)
    return error_response(503, "not_migrated", f"The server is not ready: {reason}.", None, {"Retry-After": "30"})


def unexpected(error: Exception) -> Response:
    """Answer 500 for a bug, logging it in full; never leak its text to the caller."""
    log.exception("unhandled error", exc_info=error)
    return error_response(500, "internal_error", "An unexpected error occurred; it has been logged.")


def init_app(app: Flask) -> None:
    """Register the handler for every kind of error."""
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(ApiError, api_error)
    app.register_error_handler(ValidationError, validation_error)
    app.register_error_handler(OperationalError, database_busy)
    app.register_error_handler(ProgrammingError, missing_schema)
    app.register_error_handler(Exception, unexpected)
