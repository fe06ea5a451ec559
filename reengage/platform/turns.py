"""Due work taken in turns between accounts, so one account's backlog does not delay another's."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, TextClause, func, select

from reengage.platform.listed import one_of

# What `where` holds: SQLAlchemy conditions, or SQL text shared with a partial index's predicate.
Condition = ColumnElement[bool] | TextClause


def due_in_turns(table: Table, where: Sequence[Condition], order: list[Any], limit: Any) -> Select:
    """Ids of up to `limit` rows of `table` matching `where`, each account's n-th before any account's (n+1)-th.

    Within an account rows come in `order` (e.g. the due time). The ranking cannot lock rows
    (PostgreSQL refuses FOR UPDATE with window functions): claim the ids it answers with
    `lock_still` and a recheck of `where`.
    """
    turn = func.row_number().over(partition_by=table.c.account_id, order_by=[*order, table.c.id]).label("turn")
    ranked = select(table.c.id, turn).where(*where).subquery()
    return select(ranked.c.id).order_by(ranked.c.turn, ranked.c.id).limit(limit)


def lock_still(table: Table, where: Sequence[Condition], ids: str, columns: tuple = ()) -> Select:
    """The rows (ids, or `columns`) among the ids bound to `ids` that still match `where`, each locked by one claimer
    only.

    FOR UPDATE SKIP LOCKED on PostgreSQL: a row another clock holds is left to it; SQLite has one writer at a time.
    """
    return (select(*(columns or (table.c.id,))).where(one_of(table.c.id, ids), *where).order_by(table.c.id)
            .with_for_update(skip_locked=True))
