"""What the routes share: the caller's account scope, listings with declared filters.

Every query of a route goes through `scoped`, so the predicate that keeps an account to its own rows
is written here once. A listing's filters are declared as the polling triggers' are: a `where` per
query parameter, given the caller's value (`triggers.polling.equal` for the common case).
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Select, select

from reengage.models import Account
from reengage.platform import db
from reengage.platform.auth import account_id
from reengage.platform.errors import ApiError

Row = TypeVar("Row")
Where = Callable[[Any], ColumnElement[bool]]


def scoped(model: type[Row], *where: ColumnElement[bool]) -> Select[Any]:
    """A query of the caller's account's rows of `model` that meet every `where`."""
    return select(model).where(model.account_id == account_id(), *where)  # type: ignore[attr-defined]  # every scoped model has one


def owned_or_404(model: type[Row], value: Any, column: Any = None) -> Row:
    """The caller's row of `model` whose `column` (its id unless given) is `value`, else the one 404.

    Another account's row is not found either: an id never tells one account about another's data.
    """
    key = model.id if column is None else column  # type: ignore[attr-defined]  # every owned model has one
    row = db.session().scalar(scoped(model, key == value))
    if row is None:
        raise ApiError(404, "not_found", f"No {model.__name__.lower()} {value!r} in this account.")
    return cast(Row, row)


def listed(model: type[Row], args: Mapping[str, Any], filters: Mapping[str, Where], *order: Any,
           where: Sequence[ColumnElement[bool]] = ()) -> Sequence[Row]:
    """The caller's rows of `model` meeting `where` and each filter named in `args`, in `order`, at most `limit`."""
    given = [condition(args[name]) for name, condition in filters.items() if name in args]
    return cast(Sequence[Row], db.session().scalars(scoped(model, *where, *given).order_by(*order)
                                                   .limit(args["limit"])).all())


def is_set(column: Any) -> Where:
    """A filter's `where` for a yes/no parameter: whether `column` has a value."""
    return lambda wanted: column.is_not(None) if wanted else column.is_(None)


def at_or_after(column: Any) -> Where:
    """A filter's `where` for a time parameter: `column` at or after it."""
    return lambda moment: column >= moment


def caller_account() -> Account:
    """The caller's account."""
    return db.session().get_one(Account, account_id())
