"""On PostgreSQL the rollup triggers fire only for rows that can move a rollup

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06

An UPDATE OF trigger fires whenever a listed column is set, changed or not, and its function then finds nothing to
do: enrolling a dropoff (its status set) added and took out its figures in the dropoff rollups, and every message a
new enrollment schedules ran the message rollups' function for a message that had not gone. A WHEN condition
leaves the function uncalled. The functions are unchanged: each still checks for itself. SQLite's triggers carry
their conditions already, or cost little without them.
"""

from collections.abc import Sequence

from alembic import op

from reengage.platform.db import revision as earlier

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


DROPOFF_ROLLUPS, MESSAGE_ROLLUPS = earlier("0022_dropoff_rollups"), earlier("0023_message_rollups")
WENT = "(OLD.sent_at IS NOT NULL OR NEW.sent_at IS NOT NULL)"
# name: (events, table, condition or None, function). Names kept from 0022 and 0023 are replaced in place.
TRIGGERS = {
    "dropoff_rollups_update": (f"AFTER UPDATE OF {', '.join(DROPOFF_ROLLUPS.READ)}", "dropoffs",
                               MESSAGE_ROLLUPS._changed(DROPOFF_ROLLUPS.READ, "postgresql"), "dropoff_rollups_apply"),
    "message_rollups_message_change": (f"AFTER UPDATE OF {', '.join(MESSAGE_ROLLUPS.MESSAGE_READ)}", "messages", WENT,
                                       "message_rollups_message"),
    "message_rollups_message_insert": ("AFTER INSERT", "messages", "NEW.sent_at IS NOT NULL",
                                       "message_rollups_message"),
    "message_rollups_dropoff_change": (f"AFTER UPDATE OF {', '.join(MESSAGE_ROLLUPS.CREDIT_READ)}", "dropoffs",
                                       MESSAGE_ROLLUPS._changed(MESSAGE_ROLLUPS.CREDIT_READ, "postgresql"),
                                       "message_rollups_dropoff"),
    "dropoff_touches_message_change": (f"AFTER UPDATE OF {', '.join(MESSAGE_ROLLUPS.TOUCH_READ)}", "messages", WENT,
                                       "dropoff_touches_message"),
    "dropoff_touches_message_insert": ("AFTER INSERT", "messages", "NEW.sent_at IS NOT NULL",
                                       "dropoff_touches_message"),
    "dropoff_touches_message_delete": ("AFTER DELETE", "messages", "OLD.sent_at IS NOT NULL",
                                       "dropoff_touches_message"),
    "dropoff_touches_dropoff_change": (f"AFTER UPDATE OF {', '.join(MESSAGE_ROLLUPS.DROPOFF_READ)}", "dropoffs",
                                       MESSAGE_ROLLUPS._changed(MESSAGE_ROLLUPS.DROPOFF_READ, "postgresql"),
                                       "dropoff_touches_dropoff"),
}
# What 0022 and 0023 had under the names replaced (the new names are dropped on the way down).
BEFORE = {
    "dropoff_rollups_update": (f"AFTER UPDATE OF {', '.join(DROPOFF_ROLLUPS.READ)}", "dropoffs", None,
                               "dropoff_rollups_apply"),
    **{name: (when.rsplit(" ON ", 1)[0], when.rsplit(" ON ", 1)[1], None, name.rsplit("_", 1)[0])
       for name, when in MESSAGE_ROLLUPS.POSTGRESQL_TRIGGERS.items() if name in TRIGGERS},
}


def _create(name: str, events: str, table: str, condition: str | None, function: str) -> None:
    when = f" WHEN ({condition})" if condition else ""
    op.execute(f"CREATE TRIGGER {name} {events} ON {table} FOR EACH ROW{when} EXECUTE FUNCTION {function}()")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, (_, table, _, _) in BEFORE.items():
        op.execute(f"DROP TRIGGER {name} ON {table}")
    for name, definition in TRIGGERS.items():
        _create(name, *definition)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, (_, table, _, _) in TRIGGERS.items():
        op.execute(f"DROP TRIGGER {name} ON {table}")
    for name, definition in BEFORE.items():
        _create(name, *definition)
