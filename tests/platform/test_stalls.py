"""Stalled messages and REST hook deliveries are found through the partial index of rows in flight, on every tick's
question and in the sweeps that hand them on, however many finished rows their tables hold."""

from sqlalchemy import event as sqlalchemy_event

from reengage import hooks
from reengage.jobs import clock
from reengage.platform import db
from reengage.sending import recovery

INDEXES = {"messages": "ix_messages_in_flight", "hook_deliveries": "ix_hook_deliveries_in_flight"}


def test_stalled_rows_are_read_through_the_index_of_rows_in_flight(app):
    with app.app_context():
        engine, sent = db.engine(), []

        def note(_connection, _cursor, statement: str, parameters, *_rest) -> None:
            if "queued_at <" in statement and statement.lstrip().upper().startswith("SELECT"):
                sent.append((statement, parameters))

        sqlalchemy_event.listen(engine, "before_cursor_execute", note)
        try:
            now = db.utcnow()
            clock.with_work(now, [clock.requeue_stalled_messages, clock.requeue_stalled_hooks])
            recovery.stalled(now, 10)
            hooks.stalled(now, 10)
        finally:
            sqlalchemy_event.remove(engine, "before_cursor_execute", note)
        question = [statement for statement in sent if "requeue_stalled_messages" in statement[0]]
        sweeps = [statement for statement in sent if statement not in question]
        assert len(question) == 1 and len(sweeps) == 4
        with engine.begin() as connection:
            postgres = connection.dialect.name == "postgresql"
            if postgres:  # its tables are empty here: without this it would read them whole, as it rightly may
                connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            for statement, parameters in [*question, *sweeps]:
                explained = connection.exec_driver_sql(
                    f"EXPLAIN {statement}" if postgres else f"EXPLAIN QUERY PLAN {statement}", parameters)
                plan = " ".join(str(row[-1]) for row in explained)
                for table, index in INDEXES.items():
                    if f"FROM {table}" in statement:
                        assert index in plan, (statement, plan)
                        # Never the table itself, row by row (SQLite's `SCAN messages`, PostgreSQL's `Seq Scan`).
                        assert f"SCAN {table} " not in f"{plan} " and "Seq Scan" not in plan, (statement, plan)
