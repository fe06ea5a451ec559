"""A message that goes joins its dropoff's reach in place; messages not sent leave the reach alone

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

from reengage.platform.db import revision as earlier

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Migration 0023 defines the reach and its triggers.
REACH = earlier("0023_message_rollups")


def _joined(m: str, dialect: str, kinds: dict[str, tuple[str, ...]] = REACH.KINDS) -> str:
    """Sent message `m` (NEW) taken into its dropoff's reach (rows of these kinds): a group it is the first of gets a
    row; in one it is not, the earliest first touch stays and engagement only grows. Rebuilding the reach gives the
    same rows."""
    least, greatest = ("least", "greatest") if dialect == "postgresql" else ("min", "max")
    values = " UNION ALL ".join(
        f"SELECT '{kind}' AS dimension, " + ", ".join(
            f"{(value.replace('m.', f'{m}.') if other in owned else REACH.UNSET[other])} AS {column}"
            for (other, value), column in zip(REACH.DIMENSIONS.items(), ("flow_id", "phase", "channel", "variant"),
                                              strict=True))
        for kind, owned in kinds.items())
    return (f"INSERT INTO dropoff_touches ({', '.join(REACH.TOUCH_COLUMNS)}) "
            "SELECT d.id, v.dimension, v.flow_id, v.phase, v.channel, v.variant, d.account_id, d.detected_at, "
            f"d.scenario, d.stage, d.rule_key, {REACH._microseconds(f'{m}.sent_at', 'd.detected_at', dialect)}, "
            f"CASE WHEN {m}.opened_at IS NOT NULL OR {m}.clicked_at IS NOT NULL THEN 1 ELSE 0 END "
            f"FROM enrollments e JOIN dropoffs d ON d.id = e.dropoff_id CROSS JOIN ({values}) AS v "
            f"WHERE e.id = {m}.enrollment_id AND {REACH._counted('d')} "
            f"ON CONFLICT ({', '.join(REACH.TOUCH_KEY)}) DO UPDATE SET "
            f"first_touch_us = {least}(dropoff_touches.first_touch_us, excluded.first_touch_us), "
            f"engaged = {greatest}(dropoff_touches.engaged, excluded.engaged)")


def _message_function(dialect: str, stays: str | None = None, kinds: dict[str, tuple[str, ...]] = REACH.KINDS) -> str:
    """The PostgreSQL function's body (keeping reach rows of these kinds); a message updated in a way that passes
    `stays` joins the reach in place too."""
    joins = f"""
        ELSIF {stays} THEN {_joined('NEW', dialect, kinds)};""" if stays else ""
    return f"""
        IF TG_OP = 'DELETE' THEN
            IF OLD.sent_at IS NOT NULL THEN PERFORM dropoff_touches_refresh({REACH._of('OLD')}); END IF;
        ELSIF TG_OP = 'INSERT' THEN
            IF NEW.sent_at IS NOT NULL THEN {_joined('NEW', dialect, kinds)}; END IF;
        ELSIF OLD.sent_at IS NULL THEN
            IF NEW.sent_at IS NOT NULL THEN {_joined('NEW', dialect, kinds)}; END IF;{joins}
        ELSE
            PERFORM dropoff_touches_refresh({REACH._of('NEW')});
            IF OLD.enrollment_id IS DISTINCT FROM NEW.enrollment_id THEN
                PERFORM dropoff_touches_refresh({REACH._of('OLD')});
            END IF;
        END IF;"""


def _joining(m: str):
    """A trigger's statements (for a dialect, of the reach's kinds) taking sent message `m` into its dropoff's reach."""
    return lambda dialect, kinds=REACH.KINDS: [_joined(m, dialect, kinds)]


# Messages not sent (before and after a change) reach no one: their rows are left alone.
SQLITE_TRIGGERS = {
    "dropoff_touches_message_new": ("AFTER INSERT ON messages WHEN NEW.sent_at IS NOT NULL", _joining("NEW")),
    "dropoff_touches_message_sent": (f"AFTER UPDATE OF {', '.join(REACH.TOUCH_READ)} ON messages "
                                     "WHEN OLD.sent_at IS NULL AND NEW.sent_at IS NOT NULL", _joining("NEW")),
    "dropoff_touches_message_update": (f"AFTER UPDATE OF {', '.join(REACH.TOUCH_READ)} ON messages "
                                       "WHEN OLD.sent_at IS NOT NULL", REACH._touching(REACH._of("NEW"))),
    "dropoff_touches_message_moved": ("AFTER UPDATE OF enrollment_id ON messages "
                                      "WHEN OLD.enrollment_id IS NOT NEW.enrollment_id AND OLD.sent_at IS NOT NULL",
                                      REACH._touching(REACH._of("OLD"))),
    "dropoff_touches_message_delete": ("AFTER DELETE ON messages WHEN OLD.sent_at IS NOT NULL",
                                       REACH._touching(REACH._of("OLD"))),
}


def _function(body: str) -> str:
    return ("CREATE OR REPLACE FUNCTION dropoff_touches_message() RETURNS trigger LANGUAGE plpgsql "
            f"SET enable_seqscan = off AS $$ BEGIN {body} RETURN OLD; END $$")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(_function(_message_function(dialect)))
        return
    for name in (*REACH.SQLITE_TRIGGERS.keys() & SQLITE_TRIGGERS.keys(),):
        op.execute(f"DROP TRIGGER {name}")
    for name, (when, statements) in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} BEGIN {'; '.join(statements(dialect))}; END")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(_function(REACH.POSTGRESQL_FUNCTIONS["dropoff_touches_message"](dialect)))
        return
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    for name, (when, statements) in REACH.SQLITE_TRIGGERS.items():
        if name in SQLITE_TRIGGERS:
            op.execute(f"CREATE TRIGGER {name} {when} BEGIN {'; '.join(statements(dialect))}; END")
