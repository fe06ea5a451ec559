"""The template library: flows shipped in `flows/`, one YAML file each, checked when loaded."""

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from marshmallow import ValidationError

from reengage.sequencing.definition import FlowDefinitionSchema

FOLDER = Path(__file__).resolve().parents[2] / "flows"
# Every shipped template, by file name: one per scenario family and per flow-failure category.
KEYS = (
    "lead_magnet", "sales", "onboarding", "upsell_retention", "closed_lost",
    "flow_failure_repeated_attempts", "flow_failure_auth", "flow_failure_maintenance", "flow_failure_latency",
    "flow_failure_unknown_exit",
)


@cache
def library() -> dict[str, dict[str, Any]]:
    """Every template, loaded and checked like a flow an account saves; a broken file fails loudly."""
    loaded = {}
    for key in KEYS:
        raw = yaml.safe_load((FOLDER / f"{key}.yaml").read_text(encoding="utf-8"))
        try:
            template = FlowDefinitionSchema().load(raw)
        except ValidationError as error:
            raise RuntimeError(f"flows/{key}.yaml is not a valid flow: {error.messages}") from None
        if template["key"] != key:
            raise RuntimeError(f"flows/{key}.yaml says its key is {template['key']!r}")
        loaded[key] = template
    return loaded
