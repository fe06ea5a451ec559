"""What a request may carry: JSON of finite numbers, and text a database can store, else a 4xx naming the field."""

import json
import math
import re
from typing import Any

import flask
from flask import Flask, Request, request
from flask.json.provider import DefaultJSONProvider
from webargs import core
from webargs.flaskparser import FlaskParser

from reengage.platform.errors import ApiError, field_error, invalid_json

# PostgreSQL text cannot hold NUL, and no database driver can encode half of a UTF-16 surrogate pair.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_TEXT = "Must not contain NUL characters or unpaired surrogates (\\u0000, \\ud800-\\udfff)."
NON_FINITE_TEXT = "Must be a finite number: JSON has no NaN or Infinity."


# Where a body's text may hold a string UNSTORABLE finds once parsed: an escaped NUL or surrogate (`\u0000`,
# `\ud800`), or in bytes a surrogate encoded as UTF-8, which json decodes (it reads bytes with `surrogatepass`).
MAY_BE_UNSTORABLE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\xed[\xa0-\xbf]")
MAY_BE_UNSTORABLE_TEXT = re.compile("\\\\u(?:0000|[dD][89a-fA-F])|[\x00\ud800-\udfff]")


class _NonFinite:
    """Stands where the body had NaN, Infinity or a number too large for a float, until it is named."""


NON_FINITE = _NonFinite()


def _path(prefix: str, key: str | int) -> str:
    return f"{prefix}[{key}]" if isinstance(key, int) else f"{prefix}.{key}" if prefix else key


def check(value: Any, path: str = "") -> None:
    """Raise the 422 naming the first non-finite number or unstorable string in parsed JSON `value`."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        at, item = stack.pop()
        if item is NON_FINITE:
            raise field_error(at or "body", NON_FINITE_TEXT)
        if isinstance(item, str) and UNSTORABLE.search(item):
            raise field_error(at or "body", UNSTORABLE_TEXT)
        if isinstance(item, dict):
            for key, child in item.items():
                if UNSTORABLE.search(key):
                    raise field_error(at or "body", f"A key: {UNSTORABLE_TEXT}")
                stack.append((_path(at, key), child))
        elif isinstance(item, list):
            stack.extend((_path(at, index), child) for index, child in enumerate(item))


def loads(data: str | bytes, **kwargs: Any) -> Any:
    """Parse a request body as JSON that every backend can store, raising a 422 naming the bad field.

    The parsed value is walked for what to name only when the text may hold it (a non-finite number, which
    parsing notes, or an unstorable string): most bodies have neither, and the walk was a tenth of a batch's time.
    """
    non_finite: list[str] = []

    def constant(name: str) -> _NonFinite:
        non_finite.append(name)
        return NON_FINITE

    def as_float(text: str) -> float | _NonFinite:
        number = float(text)
        if math.isfinite(number):
            return number
        non_finite.append(text)
        return NON_FINITE

    try:
        value = json.loads(data, parse_constant=constant, parse_float=as_float, **kwargs)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if non_finite or _may_be_unstorable(data):
        check(value)
    return value


def _may_be_unstorable(data: str | bytes | bytearray) -> bool:
    if isinstance(data, str):
        return MAY_BE_UNSTORABLE_TEXT.search(data) is not None
    if json.detect_encoding(data) != "utf-8":  # UTF-16 or 32, or a byte order mark: walked, as before
        return True
    return MAY_BE_UNSTORABLE.search(data) is not None


class JsonProvider(DefaultJSONProvider):
    """Flask's JSON, reading with `loads` above: every request body it parses is one the backends can store."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s, **kwargs)


class JsonRequest(Request):
    """A request whose malformed JSON body is answered with our error body."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if e is None:
            return super().on_json_loading_failed(e)  # not JSON at all: Flask's 415
        raise invalid_json()


class Parser(FlaskParser):
    """webargs' parser, reading JSON bodies as requests do."""

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not core.is_json(req.mimetype):
            return core.missing
        try:
            return loads(req.get_data(cache=True))
        except ValueError:
            raise invalid_json() from None


def refuse_unstorable_text() -> None:
    """Answer 422 before any view when a path segment, query or form value or header holds unstorable text."""
    named: list[tuple[str, str]] = [*(request.view_args or {}).items(), *request.args.items(multi=True),
                                    *request.headers.items()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        named.extend(request.form.items(multi=True))
    # One search over every name and value at once (a request's dozen headers among them); which one, only on a hit.
    if not UNSTORABLE.search("".join(text for pair in named for text in pair if isinstance(text, str))):
        return
    for name, value in named:
        if isinstance(value, str) and UNSTORABLE.search(value):
            raise field_error(name, UNSTORABLE_TEXT)
        if UNSTORABLE.search(name):
            raise ApiError(422, "validation_error", f"A parameter name: {UNSTORABLE_TEXT}")


def init_app(app: Flask) -> None:
    """Parse every request with these rules."""
    app.request_class = JsonRequest
    app.json = JsonProvider(app)
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_unstorable_text)
