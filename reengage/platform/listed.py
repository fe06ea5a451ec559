"""`column IN <a list given when the statement runs>`, written so that the statement's text is the same for any length.

An expanding parameter (`column.in_(bindparam(name, expanding=True))`) is rendered one placeholder an element each
time a statement runs: SQLAlchemy rewrites the statement's text on every run, and on PostgreSQL every length is a
statement of its own, so the driver never prepares it and the server plans it again on every run. `one_of` sends the
list as one parameter: `column = ANY(:name)` on PostgreSQL (an array), so the driver prepares the statement after a
few runs and the server keeps its plan; `column IN (SELECT value FROM json_each(:name))` on SQLite (a JSON array,
looked up through the column's index as a list would be). Other databases get the expanding parameter. Either way
the statement runs with `{name: [...]}` (ids or strings).
"""

import json
from typing import Any

from sqlalchemy import ARRAY, Boolean, ColumnElement, String, any_, bindparam
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
    kind = element.column.type
    if getattr(kind, "length", None) is not None:  # VARCHAR(n)[] would cut a longer value down to n, and match
        kind = kind.copy()
        kind.length = None  # type: ignore[attr-defined]
    values = bindparam(element.name, type_=ARRAY(kind))
    return compiler.process(element.column == any_(values), **kw)


def one_of(column: ColumnElement[Any] | QueryableAttribute[Any], name: str) -> OneOf:
    """`column` is one of the list bound to `name` when the statement runs."""
    return OneOf(column, name)
