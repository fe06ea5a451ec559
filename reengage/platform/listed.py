"""`column IN <a list given when the statement runs>`, written so that the statement's text is the same for any length.

An expanding parameter (`column.in_(bindparam(name, expanding=True))`) is rendered one placeholder an element each
time a statement runs: SQLAlchemy rewrites the statement's text on every run, and on PostgreSQL every length is a
statement of its own, so the driver never prepares it and the server plans it again on every run. `one_of` sends the
list as one parameter: `column = ANY(:name)` on PostgreSQL (an array), so the driver prepares the statement after a
few runs and the server keeps its plan; `column IN (SELECT value FROM json_each(:name))` on SQLite (a JSON array,
looked up through the column's index as a list would be). Other databases get the expanding parameter. Either way
the statement runs with `{name: [...]}` (ids or strings). `one_of_within` is the same within an account, for a column
unique there: on PostgreSQL one lookup in the unique index a value, whatever its statistics know of the account.
"""

import json
from typing import Any

from sqlalchemy import ARRAY, Boolean, ColumnElement, String, and_, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType
from sqlalchemy.types import TypeDecorator


class JsonList(TypeDecorator):
    """A list bound as its JSON text."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str:
        return json.dumps(list(value))


class OneOf(ColumnElement[bool]):
    """Whether `column` is one of the values bound to `name` (see the module's docstring)."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition in itself: WHERE takes it as it is (no "= 1" on SQLite)
    _traverse_internals: _TraverseInternalsType = [  # noqa: RUF012 (declared so by SQLAlchemy)
        ("column", InternalTraversal.dp_clauseelement), ("name", InternalTraversal.dp_string)]

    def __init__(self, column: ColumnElement[Any] | QueryableAttribute[Any], name: str) -> None:
        self.column = column.expression  # a mapped attribute's own column
        self.name = name


@compiles(OneOf)
def _expanding(element: OneOf, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(OneOf, "sqlite")
def _json_each(element: OneOf, compiler: Any, **kw: Any) -> str:
    values = compiler.process(bindparam(element.name, type_=JsonList()), **kw)
    return f"{compiler.process(element.column, **kw)} IN (SELECT value FROM json_each({values}))"


@compiles(OneOf, "postgresql")
def _array(element: OneOf, compiler: Any, **kw: Any) -> str:
    values = bindparam(element.name, type_=ARRAY(_unbounded(element.column.type)))
    return compiler.process(element.column == any_(values), **kw)


def _unbounded(kind: Any) -> Any:
    """`kind` without its length: VARCHAR(n)[] would cut a longer value down to n, and match."""
    if getattr(kind, "length", None) is not None:
        kind = kind.copy()
        kind.length = None
    return kind


class OneOfWithin(ColumnElement[bool]):
    """Whether `scope` is the value bound to `scope_name` and `column` one of the list bound to `name`, for a pair of
    columns a unique index starts with (an account and its event keys, its contacts' emails): see `one_of_within`."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True
    _traverse_internals: _TraverseInternalsType = [  # noqa: RUF012 (declared so by SQLAlchemy)
        ("scope", InternalTraversal.dp_clauseelement), ("scope_name", InternalTraversal.dp_string),
        ("column", InternalTraversal.dp_clauseelement), ("name", InternalTraversal.dp_string)]

    def __init__(self, scope: ColumnElement[Any], scope_name: str, column: ColumnElement[Any], name: str) -> None:
        self.scope, self.scope_name = scope.expression, scope_name
        self.column, self.name = column.expression, name


def one_of_within(scope: ColumnElement[Any], scope_name: str, column: ColumnElement[Any], name: str) -> OneOfWithin:
    """`scope = :scope_name AND column IN <the list bound to name>`, for a pair of columns a unique index starts with:
    on PostgreSQL one lookup in that index per value, whatever its statistics say of the scope.

    PostgreSQL plans `scope = :a AND column = ANY(:list)` from what its statistics say of `:a`, and they know nothing of
    an account that appeared since they were gathered (autovacuum gathers them again once a tenth of a table has
    changed): taking it for a few rows, it read every row of the account through another index and tested each
    against the list (500 keys of a new account with 20,000 events: 107 ms, against 2-3 ms). Here each pair (scope,
    value) finds its row's primary key on its own, a lookup whose conditions name the whole unique index (so no other
    index can look cheaper), and the rows are then read by primary key.
    """
    return OneOfWithin(scope, scope_name, column, name)


@compiles(OneOfWithin)
def _within(element: OneOfWithin, compiler: Any, **kw: Any) -> str:
    condition = and_(element.scope == bindparam(element.scope_name), OneOf(element.column, element.name))
    return compiler.process(condition, **kw)


@compiles(OneOfWithin, "postgresql")
def _each(element: OneOfWithin, compiler: Any, **kw: Any) -> str:
    table = element.column.table
    (key,) = table.primary_key.columns
    values = bindparam(element.name, type_=ARRAY(_unbounded(element.column.type)))
    scope = bindparam(element.scope_name, type_=element.scope.type)
    pairs = func.unnest(func.array_fill(scope, array([func.cardinality(values)])), values).table_valued(
        "scope", "value").render_derived("pairs")
    found = table.alias("found")
    each = select(found.c[key.name]).where(found.c[element.scope.name] == pairs.c.scope,
                                           found.c[element.column.name] == pairs.c.value).scalar_subquery()
    keys = select(each).select_from(pairs)
    return f"{compiler.process(key, **kw)} = ANY(ARRAY({compiler.process(keys, **kw)}))"


def one_of(column: ColumnElement[Any] | QueryableAttribute[Any], name: str) -> OneOf:
    """`column` is one of the list bound to `name` when the statement runs."""
    return OneOf(column, name)
