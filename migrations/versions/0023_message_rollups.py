"""Message rollups for metrics by a message's dimension and the A/B tests, kept by triggers on write

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reengage.platform.db import Id

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The group: the dropoff's (as in dropoff_rollups), then the message's.
DROPOFF_KEY = ("account_id", "day", "scenario", "stage", "rule_key", "currency")
MESSAGE_KEY = ("flow_id", "step", "phase", "channel", "variant")
KEY = (*DROPOFF_KEY, *MESSAGE_KEY)
FIGURES = ("messages_sent", "delivered", "opened", "clicked", "machine_opened", "cost", "recovered", "revenue")
# What changes a dropoff's group, or whether it counts: the figures of its messages and its credit move with it.
DROPOFF_READ = ("account_id", "detected_at", "scenario", "stage", "rule_key", "currency", "test", "status")
CREDIT_READ = (*DROPOFF_READ, "credited_message_id", "revenue")
CREDITED = sa.text("credited_message_id IS NOT NULL")
MESSAGE_READ = ("enrollment_id", "flow_id", "step", "phase", "channel", "variant", "sent_at", "delivered_at",
                "opened_at", "clicked_at", "machine_opened_at", "cost")


def _scaled(sql: str, scale: int, dialect: str) -> str:
    if dialect == "postgresql":
        return f"coalesce(CAST({sql} * {scale} AS bigint), 0)"
    return f"coalesce(CAST(round({sql} * {scale}) AS INTEGER), 0)"


def _group(d: str, m: str, dialect: str) -> str:
    day = f"({d}.detected_at AT TIME ZONE 'UTC')::date" if dialect == "postgresql" else f"date({d}.detected_at)"
    return (f"{d}.account_id, {day}, {d}.scenario, {d}.stage, {d}.rule_key, coalesce({d}.currency, ''), "
            f"{m}.flow_id, {m}.step, {m}.phase, {m}.channel, coalesce({m}.variant, '')")


def _counted(d: str) -> str:
    # An account being deleted takes its rollups with it: its rows' deletions add nothing back.
    return (f"NOT {d}.test AND {d}.status <> 'retracted' "
            f"AND EXISTS (SELECT 1 FROM accounts WHERE accounts.id = {d}.account_id)")


def _upsert(select: str) -> str:
    updates = ", ".join(f"{name} = message_rollups.{name} + excluded.{name}" for name in FIGURES)
    return (f"INSERT INTO message_rollups ({', '.join((*KEY, *FIGURES))}) {select} "
            f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET {updates}")


def _sent_figures(m: str, sign: str, dialect: str, *, summed: bool) -> list[str]:
    """Sent message(s) `m`'s figures times `sign`, in the order of FIGURES: one row's, or their sums per group."""
    counts = [f"CASE WHEN {m}.sent_at IS NOT NULL THEN 1 ELSE 0 END",
              *(f"CASE WHEN {m}.{column} IS NOT NULL THEN 1 ELSE 0 END"
                for column in ("delivered_at", "opened_at", "clicked_at", "machine_opened_at")),
              _scaled(f"{m}.cost", 1_000_000, dialect)]
    counts = [f"{sign} * sum({sql})" if summed else f"{sign} * {sql}" for sql in counts]
    return [*counts, "0", "0"]


def _sent(m: str, sign: str, dialect: str, *, summed: bool) -> str:
    return ", ".join(_sent_figures(m, sign, dialect, summed=summed))


def _message(m: str, sign: str, dialect: str) -> str:
    """Message row `m` (OLD or NEW) added to its dropoff's group, times `sign`, when it went and its dropoff counts."""
    return _upsert(f"SELECT {_group('d', m, dialect)}, {_sent(m, sign, dialect, summed=False)} "
                   f"FROM enrollments e JOIN dropoffs d ON d.id = e.dropoff_id "
                   f"WHERE e.id = {m}.enrollment_id AND {m}.sent_at IS NOT NULL AND {_counted('d')}")


def _messages(d: str, sign: str, dialect: str, join: str, where: str) -> str:
    """The sent messages passing `where` (through `join`) added to dropoff `d`'s groups, times `sign`."""
    return _upsert(f"SELECT {_group(d, 'm', dialect)}, {_sent('m', sign, dialect, summed=True)} FROM messages m "
                   f"{join} WHERE {where} AND m.sent_at IS NOT NULL AND {_counted(d)} "
                   f"GROUP BY {_group(d, 'm', dialect)}")


def _of_dropoff(d: str, sign: str, dialect: str) -> str:
    return _messages(d, sign, dialect, "JOIN enrollments e ON e.id = m.enrollment_id", f"e.dropoff_id = {d}.id")


def _of_enrollment(e: str, sign: str, dialect: str) -> str:
    return _messages("d", sign, dialect, f"JOIN dropoffs d ON d.id = {e}.dropoff_id", f"m.enrollment_id = {e}.id")


def _credit(d: str, sign: str, dialect: str) -> str:
    """Dropoff `d`'s recovery (times `sign`) added to the group of the message it is credited to."""
    figures = ", ".join(["0"] * 6 + [sign, f"{sign} * {_scaled(f'{d}.revenue', 10_000, dialect)}"])
    return _upsert(f"SELECT {_group(d, 'm', dialect)}, {figures} FROM messages m "
                   f"WHERE m.id = {d}.credited_message_id AND {_counted(d)}")


def _credits_of(m: str, sign: str, dialect: str) -> str:
    """The recoveries credited to message `m`, taken out (times `sign`) of its groups."""
    figures = ", ".join(["0"] * 6 + [f"{sign} * count(*)", f"{sign} * sum({_scaled('d.revenue', 10_000, dialect)})"])
    return _upsert(f"SELECT {_group('d', m, dialect)}, {figures} FROM dropoffs d "
                   f"WHERE d.credited_message_id = {m}.id AND {_counted('d')} GROUP BY {_group('d', m, dialect)}")


def _backfill(dialect: str) -> None:
    """Messages and credits from before, each in one aggregated statement."""
    group = _group("d", "m", dialect)
    op.execute(_upsert(f"SELECT {group}, {_sent('m', '1', dialect, summed=True)} FROM messages m "
                       f"JOIN enrollments e ON e.id = m.enrollment_id JOIN dropoffs d ON d.id = e.dropoff_id "
                       f"WHERE m.sent_at IS NOT NULL AND {_counted('d')} GROUP BY {group}"))
    figures = ", ".join(["0"] * 6 + ["count(*)", f"sum({_scaled('d.revenue', 10_000, dialect)})"])
    op.execute(_upsert(f"SELECT {group}, {figures} FROM dropoffs d JOIN messages m ON m.id = d.credited_message_id "
                       f"WHERE {_counted('d')} GROUP BY {group}"))


def _changed(columns: tuple[str, ...], dialect: str) -> str:
    """Whether an update moved the dropoff's group or its figures: of its statuses only retraction counts."""
    differs = "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"
    return " OR ".join([*(f"OLD.{c} {differs} NEW.{c}" for c in columns if c != "status"),
                        "(OLD.status = 'retracted') <> (NEW.status = 'retracted')"])


# Each counted dropoff's reach per value of each message dimension: rebuilt from its few messages when they change.
DIMENSIONS = {"flow": "m.flow_id", "phase": "m.phase", "channel": "m.channel", "variant": "coalesce(m.variant, '')"}
UNSET = {"flow": "0", "phase": "0", "channel": "''", "variant": "''"}
TOUCH_KEY = ("dropoff_id", "dimension", "flow_id", "phase", "channel", "variant")
TOUCH_COLUMNS = (*TOUCH_KEY, "account_id", "detected_at", "scenario", "stage", "rule_key", "first_touch_us", "engaged")
TOUCH_READ = ("enrollment_id", "flow_id", "phase", "channel", "variant", "sent_at", "opened_at", "clicked_at")
# The kinds of reach row (each row's `dimension`): the message dimensions its rows hold, the others unset. Here one
# kind per dimension; a later revision adds to them.
KINDS: dict[str, tuple[str, ...]] = {name: (name,) for name in DIMENSIONS}


def _microseconds(later: str, earlier: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"CAST(extract(epoch FROM {later} - {earlier}) * 1000000 AS bigint)"
    return " - ".join(f"(CAST(strftime('%s', {at}) AS INTEGER) * 1000000 + CAST(substr({at}, 21, 6) AS INTEGER))"
                      for at in (later, earlier))


def _reach(where: str, dialect: str, kinds: dict[str, tuple[str, ...]] = KINDS) -> str:
    """The reach of the dropoffs passing `where`, of these kinds, inserted."""
    selects = " UNION ALL ".join(
        f"SELECT d.id, '{kind}', "
        f"{', '.join(value if other in owned else UNSET[other] for other, value in DIMENSIONS.items())}, "
        "d.account_id, d.detected_at, d.scenario, d.stage, d.rule_key, "
        f"{_microseconds('min(m.sent_at)', 'd.detected_at', dialect)}, "
        "max(CASE WHEN m.opened_at IS NOT NULL OR m.clicked_at IS NOT NULL THEN 1 ELSE 0 END) "
        "FROM dropoffs d JOIN enrollments e ON e.dropoff_id = d.id JOIN messages m ON m.enrollment_id = e.id "
        f"WHERE {where} AND m.sent_at IS NOT NULL AND {_counted('d')} "
        f"GROUP BY d.id, d.account_id, d.detected_at, d.scenario, d.stage, d.rule_key, "
        f"{', '.join(DIMENSIONS[name] for name in owned)}"
        for kind, owned in kinds.items())
    return f"INSERT INTO dropoff_touches ({', '.join(TOUCH_COLUMNS)}) {selects}"


def _touch(dropoff: str, dialect: str, kinds: dict[str, tuple[str, ...]] = KINDS) -> str:
    """Rebuild the reach of dropoff `dropoff` (an SQL expression for its id)."""
    return f"DELETE FROM dropoff_touches WHERE dropoff_id = {dropoff}; {_reach(f'd.id = {dropoff}', dialect, kinds)}"


def _of(message: str) -> str:
    return f"(SELECT dropoff_id FROM enrollments WHERE id = {message}.enrollment_id)"


def _touching(*dropoffs: str):
    """A trigger's statements (for a dialect, of the reach's kinds) rebuilding the reach of each of `dropoffs`."""
    return lambda dialect, kinds=KINDS: [_touch(dropoff, dialect, kinds) for dropoff in dropoffs]


# Deletions take a row's figures out BEFORE the row goes: whichever of a message, its enrollment, its dropoff
# goes first takes out what it held, and the ones deleted after it (or set null by it) find nothing left to take.
SQLITE_TRIGGERS = {
    "message_rollups_message_insert": ("AFTER INSERT ON messages", lambda d: [_message("NEW", "1", d)]),
    "message_rollups_message_update": (f"AFTER UPDATE OF {', '.join(MESSAGE_READ)} ON messages",
                                       lambda d: [_message("OLD", "-1", d), _message("NEW", "1", d)]),
    "message_rollups_message_delete": ("BEFORE DELETE ON messages",
                                       lambda d: [_message("OLD", "-1", d), _credits_of("OLD", "-1", d)]),
    "message_rollups_dropoff_delete": ("BEFORE DELETE ON dropoffs",
                                       lambda d: [_of_dropoff("OLD", "-1", d), _credit("OLD", "-1", d)]),
    "message_rollups_dropoff_move": (f"AFTER UPDATE OF {', '.join(DROPOFF_READ)} ON dropoffs "
                                     f"WHEN {_changed(DROPOFF_READ, 'sqlite')}",
                                     lambda d: [_of_dropoff("OLD", "-1", d), _of_dropoff("NEW", "1", d)]),
    "message_rollups_dropoff_credit": (f"AFTER UPDATE OF {', '.join(CREDIT_READ)} ON dropoffs "
                                       f"WHEN {_changed(CREDIT_READ, 'sqlite')}",
                                       lambda d: [_credit("OLD", "-1", d), _credit("NEW", "1", d)]),
    "message_rollups_enrollment_delete": ("BEFORE DELETE ON enrollments", lambda d: [_of_enrollment("OLD", "-1", d)]),
    "message_rollups_enrollment_move": ("AFTER UPDATE OF dropoff_id ON enrollments",
                                        lambda d: [_of_enrollment("OLD", "-1", d), _of_enrollment("NEW", "1", d)]),
    "dropoff_touches_message_new": ("AFTER INSERT ON messages", _touching(_of("NEW"))),
    "dropoff_touches_message_update": (f"AFTER UPDATE OF {', '.join(TOUCH_READ)} ON messages",
                                       _touching(_of("NEW"))),
    "dropoff_touches_message_moved": ("AFTER UPDATE OF enrollment_id ON messages "
                                      "WHEN OLD.enrollment_id IS NOT NEW.enrollment_id", _touching(_of("OLD"))),
    "dropoff_touches_message_delete": ("AFTER DELETE ON messages", _touching(_of("OLD"))),
    "dropoff_touches_dropoff_move": (f"AFTER UPDATE OF {', '.join(DROPOFF_READ)} ON dropoffs "
                                     f"WHEN {_changed(DROPOFF_READ, 'sqlite')}", _touching("NEW.id")),
    "dropoff_touches_enrollment_move": ("AFTER UPDATE OF dropoff_id ON enrollments",
                                        _touching("OLD.dropoff_id", "NEW.dropoff_id")),
    "dropoff_touches_enrollment_delete": ("AFTER DELETE ON enrollments", _touching("OLD.dropoff_id")),
}
POSTGRESQL_FUNCTIONS = {
    "message_rollups_message": lambda d: f"""
        IF TG_OP IN ('UPDATE', 'DELETE') THEN {_message('OLD', '-1', d)}; END IF;
        IF TG_OP = 'DELETE' THEN {_credits_of('OLD', '-1', d)}; END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN {_message('NEW', '1', d)}; END IF;""",
    "message_rollups_dropoff": lambda d: f"""
        IF TG_OP = 'DELETE' THEN {_of_dropoff('OLD', '-1', d)}; {_credit('OLD', '-1', d)};
        ELSE
            IF {_changed(DROPOFF_READ, d)} THEN {_of_dropoff('OLD', '-1', d)}; {_of_dropoff('NEW', '1', d)}; END IF;
            IF {_changed(CREDIT_READ, d)} THEN {_credit('OLD', '-1', d)}; {_credit('NEW', '1', d)}; END IF;
        END IF;""",
    "message_rollups_enrollment": lambda d: f"""
        {_of_enrollment('OLD', '-1', d)};
        IF TG_OP = 'UPDATE' THEN {_of_enrollment('NEW', '1', d)}; END IF;""",
    "dropoff_touches_message": lambda d: f"""
        IF TG_OP = 'DELETE' THEN PERFORM dropoff_touches_refresh({_of('OLD')});
        ELSE
            PERFORM dropoff_touches_refresh({_of('NEW')});
            IF TG_OP = 'UPDATE' AND OLD.enrollment_id IS DISTINCT FROM NEW.enrollment_id THEN
                PERFORM dropoff_touches_refresh({_of('OLD')});
            END IF;
        END IF;""",
    "dropoff_touches_dropoff": lambda d: f"""
        IF {_changed(DROPOFF_READ, d)} THEN PERFORM dropoff_touches_refresh(NEW.id); END IF;""",
    "dropoff_touches_enrollment": lambda d: """
        PERFORM dropoff_touches_refresh(OLD.dropoff_id);
        IF TG_OP = 'UPDATE' THEN PERFORM dropoff_touches_refresh(NEW.dropoff_id); END IF;""",
}
POSTGRESQL_TRIGGERS = {
    "message_rollups_message_change": f"AFTER INSERT OR UPDATE OF {', '.join(MESSAGE_READ)} ON messages",
    "message_rollups_message_delete": "BEFORE DELETE ON messages",
    "message_rollups_dropoff_change": f"AFTER UPDATE OF {', '.join(CREDIT_READ)} ON dropoffs",
    "message_rollups_dropoff_delete": "BEFORE DELETE ON dropoffs",
    "message_rollups_enrollment_change": "AFTER UPDATE OF dropoff_id ON enrollments",
    "message_rollups_enrollment_delete": "BEFORE DELETE ON enrollments",
    "dropoff_touches_message_change": f"AFTER INSERT OR DELETE OR UPDATE OF {', '.join(TOUCH_READ)} ON messages",
    "dropoff_touches_dropoff_change": f"AFTER UPDATE OF {', '.join(DROPOFF_READ)} ON dropoffs",
    "dropoff_touches_enrollment_change": "AFTER DELETE OR UPDATE OF dropoff_id ON enrollments",
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "message_rollups",
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        *(sa.Column(name, sa.String(length), nullable=False) for name, length in (
            ("scenario", 100), ("stage", 100), ("rule_key", 100), ("currency", 3))),
        sa.Column("flow_id", Id, nullable=False),
        sa.Column("step", sa.String(120), nullable=False),
        sa.Column("phase", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("variant", sa.String(20), nullable=False),
        *(sa.Column(name, sa.BigInteger if name in ("revenue", "cost") else sa.Integer, nullable=False)
          for name in FIGURES),
        sa.PrimaryKeyConstraint(*KEY),
    )
    op.create_index("ix_dropoffs_credited_message", "dropoffs", ["credited_message_id"], postgresql_where=CREDITED,
                    sqlite_where=CREDITED)
    op.create_table(
        "dropoff_touches",
        sa.Column("dropoff_id", Id, sa.ForeignKey("dropoffs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("dimension", sa.String(10), nullable=False),
        sa.Column("flow_id", Id, nullable=False),
        sa.Column("phase", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("variant", sa.String(20), nullable=False),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        *(sa.Column(name, sa.String(100), nullable=False) for name in ("scenario", "stage", "rule_key")),
        sa.Column("first_touch_us", sa.BigInteger, nullable=False),
        sa.Column("engaged", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint(*TOUCH_KEY),
    )
    op.create_index("ix_dropoff_touches_account", "dropoff_touches", ["account_id", "dimension", "detected_at"])
    _backfill(dialect)
    op.execute(_reach("1 = 1", dialect))
    if dialect != "postgresql":
        for name, (when, statements) in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} BEGIN {'; '.join(statements(dialect))}; END")
        return
    # Every statement in these finds its rows through an index. Without this a plan cached while the tables were
    # nearly empty (a new database filled in one long transaction, before any ANALYZE) could keep scanning them.
    op.execute("CREATE OR REPLACE FUNCTION dropoff_touches_refresh(target bigint) RETURNS void LANGUAGE plpgsql "
               "SET enable_seqscan = off AS "
               f"$$ BEGIN {_touch('target', dialect)}; END $$")
    for name, body in POSTGRESQL_FUNCTIONS.items():
        op.execute(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan = off "
                   f"AS $$ BEGIN {body(dialect)} RETURN OLD; END $$")
    for name, when in POSTGRESQL_TRIGGERS.items():
        function = name.rsplit("_", 1)[0]
        op.execute(f"CREATE TRIGGER {name} {when} FOR EACH ROW EXECUTE FUNCTION {function}()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, when in POSTGRESQL_TRIGGERS.items():
            op.execute(f"DROP TRIGGER {name} ON {when.rsplit(' ', 1)[1]}")
        for name in POSTGRESQL_FUNCTIONS:
            op.execute(f"DROP FUNCTION {name}()")
        op.execute("DROP FUNCTION dropoff_touches_refresh(bigint)")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("dropoff_touches")
    op.drop_index("ix_dropoffs_credited_message", "dropoffs")
    op.drop_table("message_rollups")
