"""The one polling helper: triggers say what their items are; this orders, filters, limits and renders them.

Every trigger lists its items newest first by (time, id), so the first page always holds the newest
items and an item's `id` never changes: Zapier and Make dedupe on it. The cursor a caller may pass
(`since`) is a time taken from the data, never the wall clock.
"""

import functools
import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from flask import Flask, Response, current_app
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, select
from sqlalchemy.orm import InstrumentedAttribute

from reengage.models import Contact, ContactIdentity, TriggerItem
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


def poll(trigger: Trigger, account_id: int, args: dict[str, Any]) -> Response:
    """The account's newest items of `trigger` matching `args`, newest first, as the JSON answer."""
    filters = tuple((declared.name, args[declared.name]) for declared in trigger.filters if declared.name in args)
    statement = _page_statement(trigger, filters, "since" in args)
    params = {"account_id": account_id, "limit": args.get("limit", DEFAULT_LIMIT), "since": args.get("since")}
    found = _read(statement, params)
    return answer(trigger, [item_id for item_id, _ in found], {item_id: body for item_id, body in found if body})


def _read(statement: Select[Any], params: dict[str, Any]) -> list[Any]:
    """Run one read on its own: PostgreSQL answers it in one round trip (no BEGIN and ROLLBACK around it)."""
    engine = db.engine()
    if engine.dialect.name != "postgresql":
        return list(db.session().connection().execute(statement, params).all())
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return list(connection.execute(statement, params).all())


@functools.lru_cache(maxsize=512)
def _page_statement(trigger: Trigger, filters: tuple[tuple[str, Any], ...], since: bool) -> Select[Any]:
    """A page of the trigger's items, newest first, each with its text as published (built once per filter set).

    The account, the limit and `since` are bound when it runs; the filters' values are part of the statement (a
    filter may turn its value into a list), so each set of them is built once and kept.
    """
    at, item_id = trigger.order
    declared = {each.name: each for each in trigger.filters}
    query = trigger.query(bindparam("account_id"))  # type: ignore[arg-type]  # bound when the page is read
    for name, value in filters:
        query = query.where(declared[name].where(value))
    if since:
        query = query.where(at >= bindparam("since", type_=at.type))
    items = TriggerItem.__table__
    # The page's ids come from the trigger's index; each one's text by the published item's primary key.
    return (query.add_columns(items.c.body)
            .outerjoin(items, and_(items.c.trigger == trigger.key, items.c.item_id == item_id))
            .order_by(at.desc(), item_id.desc()).limit(bindparam("limit", type_=Integer)))


def answer(trigger: Trigger, ids: list[int], texts: dict[int, str]) -> Response:
    """The JSON answer listing these items in this order: each as published (`texts`), else (never published) as it
    is now.

    The answer is what Flask would make of the list of items, byte for byte: each stored text is the item
    dumped with the app's JSON settings, so the texts are joined rather than parsed and dumped again.
    """
    unpublished = [id_ for id_ in ids if id_ not in texts]
    if unpublished:
        texts.update((item["id"], text(item)) for item in trigger.render(unpublished))
    listed = [texts[id_] for id_ in ids if id_ in texts]
    if not _joinable(current_app):
        return cast(Response, current_app.json.response([json.loads(each) for each in listed]))
    return Response(f"[{','.join(listed)}]\n", mimetype=getattr(current_app.json, "mimetype", "application/json"))


def text(item: dict[str, Any]) -> str:
    """An item as the API's JSON writes it (keys sorted, compact, ASCII): what a poll answers for it."""
    return json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def store(trigger: Trigger, account_id: int, items: list[dict[str, Any]], at: datetime) -> None:
    """Keep these items of the account as published now: polls answer them so from now on (a later publication of
    the same item replaces it: the item as of its latest event)."""
    if not items:
        return
    rows = [{"trigger": trigger.key, "item_id": item["id"], "account_id": account_id,
             "contact_id": _contact_id(item), "body": text(item), "published_at": at} for item in items]
    insert = db.insert_new(TriggerItem.__table__)  # type: ignore[no-untyped-call]  # a dialect's insert
    db.session().execute(insert.on_conflict_do_update(
        index_elements=["trigger", "item_id"], set_={"body": insert.excluded.body,
                                                     "contact_id": insert.excluded.contact_id,
                                                     "published_at": insert.excluded.published_at}), rows)


def _contact_id(item: dict[str, Any]) -> int | None:
    contact = item.get("contact")
    return contact.get("id") if isinstance(contact, dict) else None


def _joinable(app: Flask) -> bool:
    """Whether the app's JSON writes lists as stored texts joined with commas (not when it indents, in debug)."""
    provider = app.json
    compact = getattr(provider, "compact", None)
    return (getattr(provider, "sort_keys", False) and getattr(provider, "ensure_ascii", False)
            and (compact or (compact is None and not app.debug)))


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
