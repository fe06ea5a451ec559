"""The contract every search meets: what platforms show of it, its query, its items, and `perform`."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema


@dataclass(frozen=True, eq=False)
class Search:
    """A search: `GET /v1/searches/<key>` loads `input` from the query string and answers a list of `output`."""

    key: str
    noun: str
    label: str
    description: str
    input: type[Schema]
    output: type[Schema]
    # Its items as a search answers them (a list; no match is an empty one).
    sample: list[dict[str, Any]]
    # The account's items matching the loaded query, newest first.
    perform: Callable[[int, dict[str, Any]], list[dict[str, Any]]]
    # The query names of which one is required (the input refuses a query with none of them).
    one_of: tuple[str, ...] = ()
