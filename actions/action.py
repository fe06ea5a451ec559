"""The contract every action meets: what platforms show of it, what it takes and answers, and `perform`."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema


@dataclass(frozen=True, eq=False)
class Action:
    """A REST action: `POST /v1/actions/<key>` loads `input`, performs, and answers `output`."""

    key: str
    noun: str
    label: str
    description: str
    # The schemas' own class names name them in openapi.yaml.
    input: type[Schema]
    output: type[Schema]
    sample: dict[str, Any]
    # Does the work for an account, with the loaded input; answers what `output` dumps.
    perform: Callable[[int, dict[str, Any]], Any]
