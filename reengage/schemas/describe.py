"""Schemas described as form fields, for apps that build their forms from the API (Zapier, Make, GET /v1/triggers)."""

from typing import Any

from marshmallow import Schema, fields, validate

# Fields whose choices come from a dropdown source (GET /v1/options/<source>).
DYNAMIC = {"flow": "flows", "scenario": "scenarios", "rule": "rules", "phase": "phases"}
TYPES = ((fields.Boolean, "boolean"), (fields.Integer, "integer"), (fields.Float, "number"),
         (fields.Decimal, "number"), (fields.DateTime, "datetime"), (fields.Dict, "dict"), (fields.List, "list"))


def fields_of(schema: Schema, prefix: str = "") -> list[dict[str, Any]]:
    """The fields a caller fills in, in declaration order; nested objects flattened to dotted keys."""
    found = []
    for name, field in schema.fields.items():
        if field.dump_only or name == "limit":
            continue
        key = f"{prefix}{field.data_key or name}"
        if isinstance(field, fields.Nested):
            found += fields_of(field.schema, f"{key}.")
            continue
        entry: dict[str, Any] = {"key": key, "label": key.replace(".", " ").replace("_", " ").capitalize(),
                                 "type": next((type_ for kind, type_ in TYPES if isinstance(field, kind)), "string"),
                                 "required": bool(field.required), "help": field.metadata.get("description", "")}
        choices = next((check.choices for check in field.validators if isinstance(check, validate.OneOf)), None)
        if choices:
            entry["choices"] = [str(choice) for choice in choices]
        if name in DYNAMIC and not prefix:
            entry["dynamic"] = DYNAMIC[name]
        found.append(entry)
    return found
