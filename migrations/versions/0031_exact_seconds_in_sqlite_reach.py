"""SQLite's reach triggers take a time's whole seconds without its fraction, which SQLite rounded

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06

On SQLite the reach's times to first touch (0023 and after) are worked out as whole seconds read by
`strftime('%s', ...)` plus the microseconds kept in the text. SQLite reads a time to the millisecond, rounded, so a
time whose fraction was .9995 s or more counted one second late. Each trigger holding that expression is made
again with the seconds read from the time without its fraction, and the reach of every dropoff that had such a
time (detected, or a message sent) is rebuilt. PostgreSQL subtracts the times themselves and is unchanged.
"""

import re
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

from reengage.platform.db import revision as earlier

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REACH = earlier("0023_message_rollups")
KINDS = earlier("0029_reach_across_dimensions").KINDS
# `strftime('%s', <time>)`, the time being a column or one call (`min(m.sent_at)`).
ROUNDED = re.compile(r"strftime\('%s', ((?:[^()]|\([^()]*\))*)\)")
WHOLE = re.compile(r"strftime\('%s', substr\(((?:[^()]|\([^()]*\))*), 1, 19\)\)")
# Dropoffs with a time SQLite may have rounded up to the next second.
ROUNDED_UP = ("SELECT id FROM dropoffs WHERE substr(detected_at, 20) >= '.999' UNION SELECT e.dropoff_id FROM "
              "enrollments e JOIN messages m ON m.enrollment_id = e.id WHERE substr(m.sent_at, 20) >= '.999'")


def exact(sql: str) -> str:
    """`sql` with each time's seconds read without its fraction."""
    return ROUNDED.sub(r"strftime('%s', substr(\1, 1, 19))", sql)


def _remake(change) -> None:
    """Each SQLite trigger reading a time's seconds, made again as `change` writes it."""
    bind = op.get_bind()
    for name, sql in bind.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND "
                                       "sql LIKE '%strftime(''%s''%'")).all():
        op.execute(f"DROP TRIGGER {name}")
        op.execute(change(sql))


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _remake(exact)
    op.execute(f"DELETE FROM dropoff_touches WHERE dropoff_id IN ({ROUNDED_UP})")
    op.execute(exact(REACH._reach(f"d.id IN ({ROUNDED_UP})", "sqlite", KINDS)))


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # The reach rebuilt stays exact; the triggers go back to what 0030 had.
    _remake(lambda sql: WHOLE.sub(r"strftime('%s', \1)", sql))
