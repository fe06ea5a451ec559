"""The one polling helper: triggers say what their items are; this orders, filters, limits and renders them.

Every trigger lists its items newest first by (time, id), so the first page always holds the newest
items and an item's `id` never changes: Zapier and Make dedupe on it. The cursor a caller may pass
(`since`) is a time taken from the data, never the wall clock.
"""

import functools
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import InstrumentedAttribute

from reengage.models import Contact, ContactIdentity
from reengage.platform import db
from reengage.platform.db import Base
from reengage.schemas.describe import fields_of

# How many items one poll answers: Zapier takes at most 100 new items per poll.
DEFAULT_LIMIT, MAX_LIMIT = 50, 100


class Strict(Schema):
    """Refuses unknown names, so a mistyped filter is an error rather than silently ignored."""

    class Meta:
        unknown = RAISE


@dataclass(frozen=True)
class Filter:
    """A filter a poll or a REST hook subscription can set: how it narrows the query and where it sits in an item."""

    name: str
    field: fields.Field[Any]
    where: Callable[[Any], ColumnElement[bool]]
    # The dotted path of the value in an item, for matching hook deliveries against the same filter.
    item: str = ""
    description: str = ""

    def value_in(self, item: dict[str, Any]) -> Any:
        """The item's value for this filter."""
        value: Any = item
        for part in (self.item or self.name).split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value


@dataclass(frozen=True, eq=False)
class Trigger:
    """A polling trigger: what its items are and how to find them; the helper below orders, pages and filters."""

    key: str
    noun: str
    label: str
    description: str
    filters: tuple[Filter, ...]
    # (time, id) of an item: items are listed newest first by these, and an item's id never changes.
    order: tuple[InstrumentedAttribute[Any], InstrumentedAttribute[Any]]
    item: type[Schema]
    sample: dict[str, Any]
    # The ids of the account's items (`order[1]`), unordered and unfiltered, joined to what the filters read.
    query: Callable[[int], Select[Any]]
    # The items of these ids (the account's, found by `query`), in their order: plain rows, no ORM objects.
    render: Callable[[list[int]], list[dict[str, Any]]]
    # The item field that holds the listing's time (`order[0]`), when it is not named like that column.
    cursor_field: str = ""

    @property
    def cursor(self) -> str:
        """The item field holding the time items are listed by, newest first: Make's date marker reads it."""
        return self.cursor_field or self.order[0].key


def equal(column: InstrumentedAttribute[Any]) -> Callable[[Any], ColumnElement[bool]]:
    """A filter's `where` that compares one column."""
    return lambda value: column == value


def query_schema(trigger: Trigger) -> type[Schema]:
    """The query parameters of a trigger: its filters, `since` and `limit`; unknown names are refused."""
    declared = _filter_fields(trigger)
    declared["since"] = fields.AwareDateTime(default_timezone=UTC, metadata={
        "description": "Only items at or after this time (a cursor taken from an item you already have)."})
    declared["limit"] = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT))
    return Strict.from_dict(declared, name=f"{_camel(trigger.key)}Query")


@functools.cache
def filters_schema(trigger: Trigger) -> Schema:
    """The schema of a hook subscription's filters for this trigger (built once)."""
    return Strict.from_dict(_filter_fields(trigger), name=f"{_camel(trigger.key)}Filters")()


def poll(trigger: Trigger, account_id: int, args: dict[str, Any]) -> list[dict[str, Any]]:
    """The account's newest items of `trigger` matching `args`, newest first."""
    at, item_id = trigger.order
    query = trigger.query(account_id)
    for declared in trigger.filters:
        if declared.name in args:
            query = query.where(declared.where(args[declared.name]))
    if "since" in args:
        query = query.where(at >= args["since"])
    query = query.order_by(at.desc(), item_id.desc()).limit(args.get("limit", DEFAULT_LIMIT))
    # The page's ids come from an index alone; only then are its items read, by primary key.
    return trigger.render(list(db.session().scalars(query)))


def by_ids(trigger: Trigger, account_id: int, ids: Iterable[int]) -> list[dict[str, Any]]:
    """The account's items of `trigger` with these ids, newest first (what a REST hook delivers)."""
    at, item_id = trigger.order
    query = trigger.query(account_id).where(item_id.in_(list(ids))).order_by(at.desc(), item_id.desc())
    return trigger.render(list(db.session().scalars(query)))


def rows(model: type[Base], ids: Collection[Any], *columns: Any) -> dict[Any, dict[str, Any]]:
    """Rows of `model` by id, as plain dicts of their columns (all, or those given; `id` first)."""
    if not ids:
        return {}
    table = model.__table__
    chosen = [table.c[name] for name in ("id", *columns)] if columns else list(table.c)
    query = select(*chosen).where(table.c.id.in_(list(ids)))
    return {row[0]: row._asdict() for row in db.session().execute(query)}


def contacts(ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """Contacts by id as items show them: their columns and `external_ids` (the ORM's property, from identities)."""
    found = rows(Contact, ids)
    for contact in found.values():
        contact["external_ids"] = {}
    if found:
        identities = ContactIdentity.__table__.c
        query = select(identities.contact_id, identities.provider, identities.external_id).where(
            identities.contact_id.in_(list(found)))
        for contact_id, provider, external_id in db.session().execute(query):
            found[contact_id]["external_ids"][provider] = external_id
    return found


def matches(trigger: Trigger, item: dict[str, Any], filters: dict[str, Any]) -> bool:
    """Whether an item passes every filter a hook subscription set."""
    declared = {f.name: f for f in trigger.filters}
    return all(declared[name].value_in(item) == value for name, value in filters.items())


def declaration(trigger: Trigger) -> dict[str, Any]:
    """What a platform needs to build the trigger: key, noun, label, description, filters and sample."""
    return {"key": trigger.key, "noun": trigger.noun, "label": trigger.label, "description": trigger.description,
            "filters": fields_of(filters_schema(trigger)), "cursor": trigger.cursor, "sample": trigger.sample}


def _filter_fields(trigger: Trigger) -> dict[str, fields.Field[Any]]:
    """A fresh field per filter (a field belongs to one schema), described by the filter."""
    made = {}
    for declared in trigger.filters:
        options: dict[str, Any] = {"metadata": {"description": declared.description}}
        if declared.field.validate is not None:
            options["validate"] = declared.field.validate
        made[declared.name] = declared.field.__class__(**options)
    return made


def _camel(key: str) -> str:
    return "".join(part.capitalize() for part in key.replace("-", ".").split("."))
