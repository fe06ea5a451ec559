"""Connections in the console: each provider's settings as a form built from its own input schema, credentials
write-only (never shown back), and a "check" button that calls the service once.

Saving is the API's PUT /v1/connections/{key}; checking is its POST .../validate.
"""

from typing import Any

from flask import abort, redirect, request, url_for
from marshmallow import fields

from reengage import connections
from reengage.platform import db
from reengage.platform.errors import ApiError
from reengage.web.console.base import account, attempt, blp, page

# Fields a form can show as one input; others (nested mappings, lists) keep their stored value.
SIMPLE = (fields.String, fields.Integer, fields.Boolean)


def forms() -> list[dict[str, Any]]:
    """Each provider with its connection's view (secrets only as set or not) and its simple fields."""
    shown = []
    for key, provider in connections.registered().items():
        found = connections.find(account().id, key)
        schema = provider.input_schema()
        inputs = [{"name": name, "secret": name in provider.secrets, "boolean": isinstance(field, fields.Boolean),
                   "required": field.required, "label": name.replace("_", " ").capitalize().replace("Api ", "API "),
                   "help": field.metadata.get("description", "")}
                  for name, field in schema.fields.items() if isinstance(field, SIMPLE)]
        shown.append({"key": key, "name": provider.name, "inputs": inputs,
                      "view": connections.view(found) if found else None})
    return shown


def _provider(key: str) -> Any:
    provider = connections.registered().get(key)
    if provider is None:
        abort(404)
    return provider


def _save(key: str) -> None:
    provider = _provider(key)
    found = connections.find(account().id, key)
    kept = dict(found.settings) if found else {}
    data: dict[str, Any] = dict(kept)
    for item in next(f for f in forms() if f["key"] == key)["inputs"]:
        name = item["name"]
        if item["boolean"]:
            data[name] = request.form.get(name) == "on"
        elif request.form.get(name, "") != "":
            data[name] = request.form[name]
        elif not item["secret"]:
            data.pop(name, None)
    checked = provider.input_schema().load(data)
    with db.transaction():
        connections.save(account().id, key, checked)


@blp.route("/connections")
def connections_page(problems: dict | None = None, failed: str | None = None, status: int = 200):
    """Every provider's connection form and state."""
    return page("connections.html", providers=forms(), problems=problems or {}, failed=failed), status


@blp.route("/connections/<key>", methods=["POST"])
def save_connection(key: str):
    """Save a provider's settings; credentials left empty keep the stored ones."""
    _, problems = attempt(lambda: _save(key))
    if problems:
        return connections_page(problems, key, 422)
    return redirect(url_for("console.connections_page", saved=key) + f"#{key}")


@blp.route("/connections/<key>/check", methods=["POST"])
def check_connection(key: str):
    """Call the service once with the stored credentials and keep what it said."""
    _provider(key)

    def work() -> None:
        found = connections.find(account().id, key)
        if found is None:
            raise ApiError(404, "not_found", "Save the connection first, then check it.")
        with db.transaction():
            connections.check(found)

    _, problems = attempt(work)
    if problems:
        return connections_page(problems, key, 422)
    return redirect(url_for("console.connections_page", checked=key) + f"#{key}")

