"""What the Zapier and Make apps are built from: every trigger, action, search and dropdown, with fields and samples.

`flask integrations export` writes it to integrations/zapier/declarations.json (the Make app is built
from it too); a test fails when the file drifts from the code, so the apps offer what the API takes.
"""

from typing import Any

from marshmallow import Schema, fields, validate

from actions import ACTIONS
from reengage import options
from searches import SEARCHES
from triggers import TRIGGERS, polling

# Fields whose choices come from a dropdown source (GET /v1/options/<source>).
DYNAMIC = {"flow": "flows", "scenario": "scenarios", "rule": "rules", "phase": "phases"}
TYPES = ((fields.Boolean, "boolean"), (fields.Integer, "integer"), (fields.Float, "number"),
         (fields.Decimal, "number"), (fields.DateTime, "datetime"), (fields.Dict, "dict"), (fields.List, "list"))


def declarations() -> dict[str, Any]:
    """Every unit the apps offer, with its input fields (nested objects flattened to dotted keys)."""
    return {
        "triggers": [{**polling.declaration(trigger), "path": f"/v1/triggers/{key}",
                      "fields": inputs(polling.filters_schema(trigger))} for key, trigger in TRIGGERS.items()],
        "actions": [{"key": key, "noun": action.NOUN, "label": action.LABEL, "description": action.DESCRIPTION,
                     "path": f"/v1/actions/{key}", "fields": inputs(action.Input()), "sample": action.SAMPLE}
                    for key, action in ACTIONS.items()],
        "searches": [{"key": key, "noun": search.NOUN, "label": search.LABEL, "description": search.DESCRIPTION,
                      "path": f"/v1/searches/{key}", "fields": inputs(search.Input()), "sample": search.SAMPLE[0]}
                     for key, search in SEARCHES.items()],
        "options": [{"key": source, "path": f"/v1/options/{source}"} for source in options.SOURCES],
    }


def inputs(schema: Schema, prefix: str = "") -> list[dict[str, Any]]:
    """The fields a caller fills in, in declaration order."""
    found = []
    for name, field in schema.fields.items():
        if field.dump_only or name == "limit":
            continue
        key = f"{prefix}{field.data_key or name}"
        if isinstance(field, fields.Nested):
            found += inputs(field.schema, f"{key}.")
            continue
        entry: dict[str, Any] = {"key": key, "label": key.replace(".", " ").replace("_", " ").capitalize(),
                                 "type": _type(field), "required": bool(field.required),
                                 "help": field.metadata.get("description", "")}
        choices = next((list(check.choices) for check in _validators(field) if isinstance(check, validate.OneOf)), None)
        if choices:
            entry["choices"] = [str(choice) for choice in choices]
        if name in DYNAMIC and not prefix:
            entry["dynamic"] = DYNAMIC[name]
        found.append(entry)
    return found


def _type(field: fields.Field) -> str:
    return next((name for kind, name in TYPES if isinstance(field, kind)), "string")


def _validators(field: fields.Field) -> list:
    return list(field.validators)
