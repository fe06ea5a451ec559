"""Logging: one JSON object a line (or plain text), with the request's id on every line logged while it runs."""

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# Webhook and unsubscribe URLs carry their secret in the path: anyone who reads the log could use them.
SECRET_PATH = re.compile(r"(/v1/webhooks/[^/?\s]+/|/v1/hubspot/actions/|/u/)[^/?\s]+")
# Query parameters that may hold a credential.
SECRET_QUERY = re.compile(r"([?&](?:key|api_key|token|hapikey|secret)=)[^&\s]+", re.IGNORECASE)
FORMATS = ("json", "text")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

request_id: ContextVar[str | None] = ContextVar("reengage_request_id", default=None)
# Attributes every LogRecord has; anything else was passed in `extra` and becomes a field of the line.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def redact(text: str) -> str:
    """`text` with the tokens of secret URLs and credential query parameters replaced by `[token]`."""
    return SECRET_QUERY.sub(r"\1[token]", SECRET_PATH.sub(r"\1[token]", text))


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: time, level, logger, message, the request id, and any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": redact(record.getMessage()),
        }
        if (current := request_id.get()) is not None:
            line["request_id"] = current
        line.update({key: value for key, value in vars(record).items() if key not in _STANDARD})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    """The classic text line, with secret URL tokens left out too."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def formatter(kind: str) -> logging.Formatter:
    """The formatter for LOG_FORMAT `kind` (`json` or `text`)."""
    return JsonFormatter() if kind == "json" else TextFormatter(TEXT_FORMAT)


def configure(level: str, kind: str) -> None:
    """Log at `level` as `kind`: request lines (`reengage.access`) to stdout, everything else to stderr.

    Handlers someone else set up first (a test runner's) are kept, as `logging.basicConfig` keeps them.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "reengage", False)]:
        root.removeHandler(old)
    if not root.handlers:
        root.addHandler(_handler(logging.StreamHandler(), kind))
    root.setLevel(level)
    access = logging.getLogger("reengage.access")
    for old in list(access.handlers):
        access.removeHandler(old)
    access.addHandler(_handler(logging.StreamHandler(sys.stdout), kind))
    access.propagate = False


def _handler(handler: logging.Handler, kind: str) -> logging.Handler:
    handler.setFormatter(formatter(kind))
    handler.reengage = True  # type: ignore[attr-defined]
    return handler
