"""A schema's dump, worked out once per schema: what polls and REST hooks render a hundred items with.

marshmallow resolves each field's attribute, default and type on every value it dumps; `dumper` does
that once and answers a function giving, for one object, exactly what `schema.dump(obj)` gives. Field
types it does not know, and schemas with dump hooks, go through marshmallow itself, so the answer is
the same whatever the schema declares (tests/schemas/test_compiled.py compares the two).
"""

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields, missing
from marshmallow.utils import get_value

Dump = Callable[[Any], dict[str, Any]]
Convert = Callable[[Any], Any]


def dumper(schema: Schema) -> Dump:
    """A function answering `schema.dump(obj)` for one object, without marshmallow's per-value work."""
    if schema.many or any(schema._hooks.values()):  # the hooks marshmallow registered (post_dump...)
        return lambda obj: schema.dump(obj, many=False)
    plan: list[tuple[str, str, Any, Convert | None, fields.Field[Any]]] = []
    for name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else name
        plan.append((key, field.attribute or name, field.dump_default, _converter(field), field))

    def dump(obj: Any) -> dict[str, Any]:
        answer: dict[str, Any] = {}
        for key, attribute, default, convert, field in plan:
            if convert is None:
                value = field.serialize(attribute, obj, accessor=schema.get_attribute)
                if value is not missing:
                    answer[key] = value
                continue
            value = obj.get(attribute, missing) if type(obj) is dict and "." not in attribute else \
                get_value(obj, attribute)
            if value is missing:
                value = default() if callable(default) else default
                if value is missing:
                    continue
            answer[key] = None if value is None else convert(value)
        return answer

    return dump


def _converter(field: fields.Field[Any]) -> Convert | None:
    """How a field turns a value that is not None into its dump, or None when marshmallow must do it."""
    kind = type(field)
    if isinstance(field, fields.Method | fields.Function) or getattr(field, "as_string", False):
        return None
    if isinstance(field, fields.Integer) and getattr(kind, "_format_num", None) is fields.Number._format_num:
        return int
    if kind is fields.Float:
        return float
    if kind is fields.String:
        return str
    if kind in (fields.AwareDateTime, fields.DateTime) and (field.format or "iso") == "iso":  # type: ignore[attr-defined]
        return lambda value: value.isoformat()
    if kind is fields.Dict and field.key_field is None and field.value_field is None:  # type: ignore[attr-defined]
        return dict
    if kind is fields.Boolean:
        return lambda value: field._serialize(value, None, None)
    if kind is fields.List:
        inner = _converter(field.inner)  # type: ignore[attr-defined]
        if inner is None:
            return None
        return lambda value: [None if each is None else inner(each) for each in value]
    if kind is fields.Nested and not field.many and field.only is None and field.exclude == ():  # type: ignore[attr-defined]
        nested = dumper(field.schema)  # type: ignore[attr-defined]
        return nested
    return None
