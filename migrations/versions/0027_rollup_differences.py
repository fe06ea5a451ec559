"""On PostgreSQL an update that leaves a row in its rollup group adds the difference in one upsert; an open or a
click joins the reach in place

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06

The rollup functions took a changed row's old figures out of its group and put its new ones in: two upserts for
every tally a send adds to its dropoff, for a dropoff becoming enrolled, for a message delivered, opened or
clicked. When the group and whether the row counts are the same before and after, one upsert of the
difference does the same. A message that had not gone before an update held nothing to take out: its function now
skips that statement. A sent message opened or clicked (when it stays where it was, sent at the same moment) joins
its dropoff's reach in place, as a send does, where its dropoff's reach was rebuilt from all its messages. SQLite's
triggers run in process, where the statements saved cost little.
"""

from collections.abc import Sequence

from alembic import op

from reengage.platform.db import revision as earlier

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPOFF_ROLLUPS, MESSAGE_ROLLUPS = earlier("0022_dropoff_rollups"), earlier("0023_message_rollups")
TOUCHES = earlier("0025_touches_as_sent")
DIALECT = "postgresql"


def _same(*columns: str, dialect: str = DIALECT) -> list[str]:
    same = "IS NOT DISTINCT FROM" if dialect == "postgresql" else "IS"
    return [f"OLD.{column} {same} NEW.{column}" for column in columns]


# A dropoff stays in its group, counted or not as before, unless one of these moved (of its status, retraction).
DROPOFF_STAYS = f"NOT ({MESSAGE_ROLLUPS._changed(MESSAGE_ROLLUPS.DROPOFF_READ, DIALECT)})"


def message_stays(dialect: str) -> str:
    """Whether a message stays in its group: it went before and after, with the same enrollment and dimensions."""
    return " AND ".join(["OLD.sent_at IS NOT NULL", "NEW.sent_at IS NOT NULL",
                         *_same("enrollment_id", "flow_id", "step", "phase", "channel", "variant", dialect=dialect)])


MESSAGE_STAYS = message_stays(DIALECT)
ENGAGED = "({m}.opened_at IS NOT NULL OR {m}.clicked_at IS NOT NULL)"


def reach_stays(dialect: str) -> str:
    """Whether a sent message stays in its dropoff's reach where it was: it went at the same moment, with the same
    enrollment and dimensions, and was not engaged before unless it is still (its row's first touch stands,
    engagement only grows). False, never null, on SQLite, where it is a trigger's condition."""
    went = "OLD.sent_at = NEW.sent_at" if dialect == "postgresql" else "OLD.sent_at IS NEW.sent_at"
    return " AND ".join([went, *_same("enrollment_id", "flow_id", "phase", "channel", "variant", dialect=dialect),
                         f"(NOT {ENGAGED.format(m='OLD')} OR {ENGAGED.format(m='NEW')})"])


REACH_STAYS = reach_stays(DIALECT)
# 0022's dropoff_rollups_apply: the old figures taken out of their group, the new put in theirs.
MOVE_DROPOFF = f"""
            IF TG_OP IN ('UPDATE', 'DELETE') THEN {DROPOFF_ROLLUPS._add('OLD', '-1', DIALECT)}; END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN {DROPOFF_ROLLUPS._add('NEW', '1', DIALECT)}; END IF;"""


def _difference(new: list[str], old: list[str]) -> list[str]:
    return [f"({n}) + ({o})" for n, o in zip(new, old, strict=True)]


def _dropoff_difference() -> str:
    """What the update of a dropoff that stays in its group adds to it (NEW's figures less OLD's), when it counts."""
    figures = _difference(DROPOFF_ROLLUPS._figures("NEW", "1", DIALECT), DROPOFF_ROLLUPS._figures("OLD", "-1", DIALECT))
    key = ["NEW.account_id", DROPOFF_ROLLUPS._day("NEW", DIALECT), "NEW.scenario", "NEW.stage", "NEW.rule_key",
           "coalesce(NEW.currency, '')"]
    updates = ", ".join(f"{name} = dropoff_rollups.{name} + excluded.{name}" for name in DROPOFF_ROLLUPS.FIGURES)
    return (f"INSERT INTO dropoff_rollups ({', '.join((*DROPOFF_ROLLUPS.KEY, *DROPOFF_ROLLUPS.FIGURES))}) "
            f"SELECT {', '.join([*key, *figures])} WHERE {MESSAGE_ROLLUPS._counted('NEW')} "
            f"ON CONFLICT ({', '.join(DROPOFF_ROLLUPS.KEY)}) DO UPDATE SET {updates}")


def message_difference(dialect: str) -> str:
    """What the update of a sent message that stays in its group adds to it, when its dropoff counts."""
    figures = _difference(MESSAGE_ROLLUPS._sent_figures("NEW", "1", dialect, summed=False),
                          MESSAGE_ROLLUPS._sent_figures("OLD", "-1", dialect, summed=False))
    return MESSAGE_ROLLUPS._upsert(
        f"SELECT {MESSAGE_ROLLUPS._group('d', 'NEW', dialect)}, {', '.join(figures)} "
        f"FROM enrollments e JOIN dropoffs d ON d.id = e.dropoff_id "
        f"WHERE e.id = NEW.enrollment_id AND {MESSAGE_ROLLUPS._counted('d')}")


FUNCTIONS = {
    "dropoff_rollups_apply": ("", f"""
        IF TG_OP = 'UPDATE' AND {DROPOFF_STAYS} THEN {_dropoff_difference()};
        ELSE {MOVE_DROPOFF}
        END IF;
        RETURN NULL;"""),
    "message_rollups_message": ("SET enable_seqscan = off", f"""
        IF TG_OP = 'UPDATE' AND {MESSAGE_STAYS} THEN {message_difference(DIALECT)};
        ELSE
            IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.sent_at IS NOT NULL) THEN
                {MESSAGE_ROLLUPS._message('OLD', '-1', DIALECT)};
            END IF;
            IF TG_OP = 'DELETE' THEN {MESSAGE_ROLLUPS._credits_of('OLD', '-1', DIALECT)}; END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN {MESSAGE_ROLLUPS._message('NEW', '1', DIALECT)}; END IF;
        END IF;
        RETURN OLD;"""),
    "dropoff_touches_message": ("SET enable_seqscan = off",
                                f"{TOUCHES._message_function(DIALECT, REACH_STAYS)} RETURN OLD;"),
}
# What 0022, 0023 and 0025 defined them as.
BEFORE = {
    "dropoff_rollups_apply": ("", f"{MOVE_DROPOFF} RETURN NULL;"),
    "message_rollups_message": ("SET enable_seqscan = off",
                                f"{MESSAGE_ROLLUPS.POSTGRESQL_FUNCTIONS['message_rollups_message'](DIALECT)} "
                                "RETURN OLD;"),
    "dropoff_touches_message": ("SET enable_seqscan = off", f"{TOUCHES._message_function(DIALECT)} RETURN OLD;"),
}


def _create(functions: dict[str, tuple[str, str]]) -> None:
    for name, (options, body) in functions.items():
        op.execute(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql {options} "
                   f"AS $$ BEGIN {body} END $$")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _create(FUNCTIONS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _create(BEFORE)
