"""Dropoff rollups for metrics, kept by triggers on write, and each dropoff's `enrolled` flag they count

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reengage.platform.db import Id

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A later revision that rebuilds `dropoffs` or `enrollments` on SQLite (batch mode copies the table) drops these
# triggers and must create them again: tests/test_migrations.py checks they are there at head.
KEY = ("account_id", "day", "scenario", "stage", "rule_key", "currency")
FIGURES = ("dropoffs", "enrolled", "recovered", "revenue", "messages_sent", "delivered", "opened", "clicked",
           "machine_opened", "cost", "re_engaged")
# The dropoff columns the figures and the group are made of: an update of any other one changes nothing.
READ = ("account_id", "detected_at", "scenario", "stage", "rule_key", "currency", "test", "status", "enrolled",
        "recovered_at", "revenue", "messages_sent", "messages_delivered", "messages_opened", "messages_clicked",
        "messages_machine_opened", "message_cost", "re_engaged")


def _day(row: str, dialect: str) -> str:
    return f"({row}.detected_at AT TIME ZONE 'UTC')::date" if dialect == "postgresql" else f"date({row}.detected_at)"


def _figures(row: str, sign: str, dialect: str) -> list[str]:
    """What dropoff `row` adds to its group, times `sign`, in the order of FIGURES."""
    whole = "::bigint" if dialect == "postgresql" else ""
    cast = (lambda sql: f"CAST({sql} AS bigint)") if dialect == "postgresql" else (
        lambda sql: f"CAST(round({sql}) AS INTEGER)")
    return [sign, f"CASE WHEN {row}.enrolled THEN {sign} ELSE 0 END",
            f"CASE WHEN {row}.recovered_at IS NOT NULL THEN {sign} ELSE 0 END",
            f"{sign} * coalesce({cast(f'{row}.revenue * 10000')}, 0){whole}",
            f"{sign} * {row}.messages_sent", f"{sign} * {row}.messages_delivered", f"{sign} * {row}.messages_opened",
            f"{sign} * {row}.messages_clicked", f"{sign} * {row}.messages_machine_opened",
            f"{sign} * coalesce({cast(f'{row}.message_cost * 1000000')}, 0){whole}",
            f"CASE WHEN {row}.re_engaged THEN {sign} ELSE 0 END"]


def _add(row: str, sign: str, dialect: str) -> str:
    """The upsert adding dropoff `row`'s figures (times `sign`) to its group, when it counts."""
    # An account being deleted takes its rollups with it: its dropoffs' deletions add nothing back.
    counted = (f"NOT {row}.test AND {row}.status <> 'retracted' "
               f"AND EXISTS (SELECT 1 FROM accounts WHERE accounts.id = {row}.account_id)")
    values = ", ".join([f"{row}.account_id", _day(row, dialect), f"{row}.scenario", f"{row}.stage",
                        f"{row}.rule_key", f"coalesce({row}.currency, '')", *_figures(row, sign, dialect)])
    updates = ", ".join(f"{name} = dropoff_rollups.{name} + excluded.{name}" for name in FIGURES)
    return (f"INSERT INTO dropoff_rollups ({', '.join((*KEY, *FIGURES))}) SELECT {values} WHERE {counted} "
            f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET {updates}")


# A dropoff is enrolled while it has an enrollment that is not held out.
ENROLLED = "EXISTS (SELECT 1 FROM enrollments e WHERE e.dropoff_id = dropoffs.id AND NOT e.holdout)"


def _mark(ids: str) -> str:
    return f"UPDATE dropoffs SET enrolled = {ENROLLED} WHERE id IN ({ids}) AND enrolled <> {ENROLLED}"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("dropoffs") as batch:
        batch.add_column(sa.Column("enrolled", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table(
        "dropoff_rollups",
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        *(sa.Column(name, sa.String(length), nullable=False) for name, length in (
            ("scenario", 100), ("stage", 100), ("rule_key", 100), ("currency", 3))),
        *(sa.Column(name, sa.BigInteger if name in ("revenue", "cost") else sa.Integer, nullable=False)
          for name in FIGURES),
        sa.PrimaryKeyConstraint(*KEY),
    )
    # Dropoffs from before, in one pass each: their enrolled flag, then their groups' sums.
    op.execute(f"UPDATE dropoffs SET enrolled = {ENROLLED}")
    figures = ", ".join(f"sum({sql})" for sql in _figures("d", "1", dialect))
    op.execute(
        f"INSERT INTO dropoff_rollups ({', '.join((*KEY, *FIGURES))}) SELECT d.account_id, {_day('d', dialect)}, "
        f"d.scenario, d.stage, d.rule_key, coalesce(d.currency, ''), {figures} FROM dropoffs d "
        f"WHERE NOT d.test AND d.status <> 'retracted' "
        f"GROUP BY d.account_id, {_day('d', dialect)}, d.scenario, d.stage, d.rule_key, coalesce(d.currency, '')")
    columns = ", ".join(READ)
    if dialect == "postgresql":
        op.execute(f"""
            CREATE OR REPLACE FUNCTION dropoff_rollups_apply() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP IN ('UPDATE', 'DELETE') THEN {_add('OLD', '-1', dialect)}; END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') THEN {_add('NEW', '1', dialect)}; END IF;
                RETURN NULL;
            END $$""")
        op.execute(f"""
            CREATE OR REPLACE FUNCTION dropoff_enrolled_apply() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP IN ('UPDATE', 'DELETE') THEN {_mark('OLD.dropoff_id')}; END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') THEN {_mark('NEW.dropoff_id')}; END IF;
                RETURN NULL;
            END $$""")
        op.execute("CREATE TRIGGER dropoff_rollups_row AFTER INSERT OR DELETE ON dropoffs "
                   "FOR EACH ROW EXECUTE FUNCTION dropoff_rollups_apply()")
        op.execute(f"CREATE TRIGGER dropoff_rollups_update AFTER UPDATE OF {columns} ON dropoffs "
                   "FOR EACH ROW EXECUTE FUNCTION dropoff_rollups_apply()")
        op.execute("CREATE TRIGGER dropoff_enrolled_change AFTER INSERT OR DELETE OR UPDATE OF dropoff_id, holdout "
                   "ON enrollments FOR EACH ROW EXECUTE FUNCTION dropoff_enrolled_apply()")
        return
    op.execute(f"CREATE TRIGGER dropoff_rollups_insert AFTER INSERT ON dropoffs BEGIN {_add('NEW', '1', dialect)}; END")
    op.execute(f"CREATE TRIGGER dropoff_rollups_delete AFTER DELETE ON dropoffs BEGIN {_add('OLD', '-1', dialect)}; "
               "END")
    op.execute(f"CREATE TRIGGER dropoff_rollups_update AFTER UPDATE OF {columns} ON dropoffs BEGIN "
               f"{_add('OLD', '-1', dialect)}; {_add('NEW', '1', dialect)}; END")
    op.execute(f"CREATE TRIGGER dropoff_enrolled_insert AFTER INSERT ON enrollments BEGIN {_mark('NEW.dropoff_id')}; "
               "END")
    op.execute(f"CREATE TRIGGER dropoff_enrolled_delete AFTER DELETE ON enrollments BEGIN {_mark('OLD.dropoff_id')}; "
               "END")
    op.execute("CREATE TRIGGER dropoff_enrolled_update AFTER UPDATE OF dropoff_id, holdout ON enrollments BEGIN "
               f"{_mark('OLD.dropoff_id, NEW.dropoff_id')}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER dropoff_enrolled_change ON enrollments")
        op.execute("DROP TRIGGER dropoff_rollups_update ON dropoffs")
        op.execute("DROP TRIGGER dropoff_rollups_row ON dropoffs")
        op.execute("DROP FUNCTION IF EXISTS dropoff_enrolled_apply()")
        op.execute("DROP FUNCTION IF EXISTS dropoff_rollups_apply()")
    else:
        for name in ("dropoff_enrolled_update", "dropoff_enrolled_delete", "dropoff_enrolled_insert",
                     "dropoff_rollups_update", "dropoff_rollups_delete", "dropoff_rollups_insert"):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("dropoff_rollups")
    with op.batch_alter_table("dropoffs") as batch:
        batch.drop_column("enrolled")
