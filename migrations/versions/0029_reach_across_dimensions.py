"""Each dropoff's reach by all four message dimensions at once, for metrics with more than one

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06

The reach (0023) holds one row per dropoff and value of each message dimension alone. A grouping or filter by two
or more (the A/B variants within a phase, say) read every sent message of the account with its enrollment and
dropoff instead. The reach now also holds rows of the kind `all`: one per dropoff and combination of flow, phase,
channel and variant its sent messages have (a dropoff's few), kept by the same triggers in the same statements,
filled here from the messages already sent. The reach's index gains the dropoff, at its end: a read of these rows
finds all it needs there.
"""

from collections.abc import Sequence

from alembic import op

from reengage.platform.db import revision as earlier

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REACH, TOUCHES, DIFFERENCES, IN_PLACE = (earlier("0023_message_rollups"), earlier("0025_touches_as_sent"),
                                         earlier("0027_rollup_differences"), earlier("0028_reach_in_place_sqlite"))
ALL = {"all": tuple(REACH.DIMENSIONS)}
KINDS = {**REACH.KINDS, **ALL}
# SQLite's triggers keeping the reach, as 0023, 0025 and 0028 left them (a later definition replaces an earlier).
SQLITE_TRIGGERS = {name: definition for name, definition in
                   {**REACH.SQLITE_TRIGGERS, **TOUCHES.SQLITE_TRIGGERS, **IN_PLACE.TRIGGERS}.items()
                   if name.startswith("dropoff_touches_")}
# 0024's index of each group in order: the dropoff at its end makes it hold all that a read of `all` rows needs.
INDEX = "ix_dropoff_touches_group"
BEFORE = earlier("0024_median_order").TOUCH_ORDER


def _postgresql(kinds: dict[str, tuple[str, ...]]) -> None:
    """The two functions that write the reach: the rebuild, and a message's (0027's), with rows of these kinds."""
    dialect = "postgresql"
    op.execute("CREATE OR REPLACE FUNCTION dropoff_touches_refresh(target bigint) RETURNS void LANGUAGE plpgsql "
               f"SET enable_seqscan = off AS $$ BEGIN {REACH._touch('target', dialect, kinds)}; END $$")
    DIFFERENCES._create({"dropoff_touches_message": (
        "SET enable_seqscan = off",
        f"{TOUCHES._message_function(dialect, DIFFERENCES.REACH_STAYS, kinds)} RETURN OLD;")})


def _sqlite(kinds: dict[str, tuple[str, ...]]) -> None:
    for name, (when, statements) in SQLITE_TRIGGERS.items():
        op.execute(f"DROP TRIGGER {name}")
        op.execute(f"CREATE TRIGGER {name} {when} BEGIN {'; '.join(statements('sqlite', kinds))}; END")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute(REACH._reach("1 = 1", dialect, ALL))
    op.drop_index(INDEX, table_name="dropoff_touches")
    op.create_index(INDEX, "dropoff_touches", [*BEFORE, "dropoff_id"])
    if dialect == "postgresql":
        _postgresql(KINDS)
    else:
        _sqlite(KINDS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql(REACH.KINDS)
    else:
        _sqlite(REACH.KINDS)
    op.drop_index(INDEX, table_name="dropoff_touches")
    op.create_index(INDEX, "dropoff_touches", list(BEFORE))
    op.execute("DELETE FROM dropoff_touches WHERE dimension = 'all'")
