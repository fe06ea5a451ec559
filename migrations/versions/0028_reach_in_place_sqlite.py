"""On SQLite too, an open or a click joins its dropoff's reach in place, and a sent message that stays in its rollup
group adds the difference

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06

SQLite's triggers rebuilt a dropoff's reach from all its messages whenever a sent one changed: for an open or a
click, about four fifths of what the write cost (measured in process, the reach's trigger dropped). A message that
stays where it was in the reach (0027's condition, which PostgreSQL's function has used since) now runs the one
upsert a send runs (0025) instead. A sent message delivered, opened or clicked took its old figures out of its
message rollup group and put its new ones in: when it stays in its group, one upsert of the difference does the
same (0027's, on PostgreSQL). Any other change runs the triggers as before.
"""

from collections.abc import Sequence

from alembic import op

from reengage.platform.db import revision as earlier

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLLUPS, TOUCHES, DIFFERENCES = (earlier("0023_message_rollups"), earlier("0025_touches_as_sent"),
                                 earlier("0027_rollup_differences"))
DIALECT = "sqlite"
SENT_CHANGED = f"AFTER UPDATE OF {', '.join(ROLLUPS.TOUCH_READ)} ON messages WHEN OLD.sent_at IS NOT NULL AND"
REACH_STAYS = DIFFERENCES.reach_stays(DIALECT)
MESSAGE_CHANGED = f"AFTER UPDATE OF {', '.join(ROLLUPS.MESSAGE_READ)} ON messages WHEN"
MESSAGE_STAYS = DIFFERENCES.message_stays(DIALECT)
# name: (when, statements). Each trigger of 0023 or 0025 named here is split by whether the row stays.
TRIGGERS = {
    "dropoff_touches_message_engaged": (f"{SENT_CHANGED} {REACH_STAYS}", TOUCHES._joining("NEW")),
    "dropoff_touches_message_update": (f"{SENT_CHANGED} NOT ({REACH_STAYS})", ROLLUPS._touching(ROLLUPS._of("NEW"))),
    "message_rollups_message_stays": (f"{MESSAGE_CHANGED} {MESSAGE_STAYS}",
                                      lambda dialect: [DIFFERENCES.message_difference(dialect)]),
    "message_rollups_message_update": (f"{MESSAGE_CHANGED} NOT ({MESSAGE_STAYS})",
                                       lambda dialect: [ROLLUPS._message("OLD", "-1", dialect),
                                                        ROLLUPS._message("NEW", "1", dialect)]),
}
# What 0023 and 0025 had under the names replaced (the new names are dropped on the way down).
BEFORE = {name: definition for name, definition in {**ROLLUPS.SQLITE_TRIGGERS, **TOUCHES.SQLITE_TRIGGERS}.items()
          if name in TRIGGERS}


def _create(name: str, when: str, statements: list[str]) -> None:
    op.execute(f"CREATE TRIGGER {name} {when} BEGIN {'; '.join(statements)}; END")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    for name in BEFORE:
        op.execute(f"DROP TRIGGER {name}")
    for name, (when, statements) in TRIGGERS.items():
        _create(name, when, statements(DIALECT))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    for name, (when, statements) in BEFORE.items():
        _create(name, when, statements(DIALECT))
