"""Schemas described as form fields, for apps that build their forms from the API (Zapier, Make, GET /v1/triggers)."""

from typing import Any

from marshmallow import Schema, fields, validate

# Fields whose choices come from a dropdown source (GET /v1/options/<source>).
DYNAMIC = {"flow": "flows", "scenario": "scenarios", "rule": "rules", "phase": "phases"}
TYPES = ((fields.Boolean, "boolean"), (fields.Integer, "integer"), (fields.Float, "number"),
         (fields.Decimal, "number"), (fields.DateTime, "datetime"), (fields.Dict, "dict"), (fields.List, "list"))


def fields_of(schema: Schema, prefix: str = "", required: bool = True) -> list[dict[str, Any]]:
    """The fields a caller fills in, in declaration order; nested objects flattened to dotted keys.

    A nested field is required only when its whole chain is: `message.body` is optional while `message` is.
    """
    found = []
    for name, field in schema.fields.items():
        if field.dump_only or name == "limit":
            continue
        key = f"{prefix}{field.data_key or name}"
        if isinstance(field, fields.Nested):
            found += fields_of(field.schema, f"{key}.", required and bool(field.required))
            continue
        entry: dict[str, Any] = {"key": key, "label": _label(key), "type": _type(field),
                                 "required": required and bool(field.required),
                                 "help": field.metadata.get("description", "")}
        choices = next((check.choices for check in field.validators if isinstance(check, validate.OneOf)), None)
        if choices:
            entry["choices"] = [str(choice) for choice in choices]
        if name in DYNAMIC and not prefix:
            entry["dynamic"] = DYNAMIC[name]
        found.append(entry)
    return found


def outputs_of(schema: Schema) -> list[dict[str, Any]]:
    """What an answer's items hold: key, label and type of each field; nested objects and lists keep their fields."""
    found = []
    for name, field in schema.fields.items():
        if field.load_only:
            continue
        key = field.data_key or name
        inner = field.inner if isinstance(field, fields.List) else field
        entry: dict[str, Any] = {"key": key, "label": _label(key), "type": _type(field)}
        if isinstance(inner, fields.Nested):
            many = inner.many or isinstance(field, fields.List)
            entry.update(type="list" if many else "dict", fields=outputs_of(inner.schema))
        elif isinstance(field, fields.List):
            entry["of"] = _type(field.inner)
        if field.metadata.get("description"):
            entry["help"] = field.metadata["description"]
        found.append(entry)
    return found


def _label(key: str) -> str:
    return key.replace(".", " ").replace("_", " ").capitalize()


def _type(field: fields.Field[Any]) -> str:
    return next((type_ for kind, type_ in TYPES if isinstance(field, kind)), "string")
