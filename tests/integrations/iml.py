"""What Make does with plain IML references: `{{parameters.flow}}`, `{{1.contact.email}}`, `{{headers.`x`}}`.

Only references are evaluated (no IML functions): a section that needs more fails here rather than passing untested.
A value that is only a reference keeps its type; references inside text are joined as text; an unset reference
leaves its key out of the object, as Make does for parameters a user did not fill in.
"""

import re
from typing import Any

REFERENCE = re.compile(r"\{\{(.*?)\}\}")
NAME = re.compile(r"`([^`]+)`|([^.`]+)")
PLAIN = re.compile(r"(?:`[^`]+`|[\w\-]+)(?:\.(?:`[^`]+`|[\w\-]+))*")
UNSET = object()


def lookup(expression: str, context: dict[str, Any]) -> Any:
    """The value a plain reference names, or UNSET."""
    if not PLAIN.fullmatch(expression.strip()):
        raise ValueError(f"not a plain reference: {expression!r}")
    value: Any = context
    for match in NAME.finditer(expression.strip()):
        name = match.group(1) or match.group(2)
        if isinstance(value, dict) and name in value:
            value = value[name]
        elif isinstance(value, list) and name.isdigit() and int(name) < len(value):
            value = value[int(name)]
        else:
            return UNSET
    return value


def evaluate(template: Any, context: dict[str, Any]) -> Any:
    """A section (or part of one) with its references resolved."""
    if isinstance(template, dict):
        done = {key: evaluate(value, context) for key, value in template.items()}
        return {key: value for key, value in done.items() if value is not UNSET}
    if isinstance(template, list):
        return [value for value in (evaluate(item, context) for item in template) if value is not UNSET]
    if not isinstance(template, str) or "{{" not in template:
        return template
    whole = REFERENCE.fullmatch(template)
    if whole:
        return lookup(whole.group(1), context)
    return REFERENCE.sub(lambda match: _text(lookup(match.group(1), context)), template)


def fill(spec: list[dict[str, Any]], values: dict[str, Any]) -> dict[str, Any]:
    """Mapped values as a module's `parameters`: coerced to each parameter's type, unknown names refused."""
    by_name = {param["name"]: param for param in spec}
    unknown = set(values) - set(by_name)
    assert not unknown, f"not parameters of this module: {unknown}"
    filled = {}
    for name, value in values.items():
        param = by_name[name]
        if param["type"] == "collection":
            filled[name] = fill(param["spec"], value)
        elif param["type"] in ("number", "uinteger", "integer"):
            filled[name] = int(value) if str(value).lstrip("-").isdigit() else float(value)
        elif param["type"] in ("text", "url", "email") or (param["type"] == "select" and isinstance(value, str)):
            filled[name] = _text(value)
        else:
            filled[name] = value
    return filled


def _text(value: Any) -> str:
    if value is UNSET or value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)
