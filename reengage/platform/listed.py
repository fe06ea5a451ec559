"""`column IN <a list given when the statement runs>`, written so that PostgreSQL sees one statement for any length.

An expanding parameter (`column.in_(bindparam(name, expanding=True))`) is rendered one placeholder an element each
time a statement runs: on PostgreSQL every length is then a statement of its own, so the driver never prepares it and
the server plans it again on every run. `one_of` renders `column = ANY(:name)` there, the list sent as one array
parameter, so the text stays the same, the driver prepares it after a few runs and the server keeps its plan. SQLite,
which has no arrays, gets the expanding parameter as before. Either way the statement runs with `{name: [...]}`.
"""

from typing import Any

from sqlalchemy import ARRAY, Boolean, ColumnElement, any_, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType


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


@compiles(OneOf, "postgresql")
def _array(element: OneOf, compiler: Any, **kw: Any) -> str:
    values = bindparam(element.name, type_=ARRAY(element.column.type))
    return compiler.process(element.column == any_(values), **kw)


def one_of(column: ColumnElement[Any] | QueryableAttribute[Any], name: str) -> OneOf:
    """`column` is one of the list bound to `name` when the statement runs."""
    return OneOf(column, name)
