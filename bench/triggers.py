#!/usr/bin/env python3
"""Rollup trigger benchmark: what the triggers that keep the rollups cost each kind of write.

Fills a new database by replaying the clock benchmark's journeys (`--contacts` applications, half of them
completed; the rest become dropoffs, are enrolled and sent two messages each), then times each kind of write
the product makes to rows the rollups follow, all of those rows at once, in a transaction rolled back: the
tallies a send adds to its dropoff, its enrolled flag (an enrollment sets it), its retraction (which takes its
figures out of every group it was in; a dropoff's other statuses move no rollup), messages delivered, opened, and
clicked and delivered. On PostgreSQL the time is the triggers' own, as EXPLAIN ANALYZE reports it, so the machine's
noise between runs of the whole journey stays out of it; on SQLite (`--sqlite`), in process, it is the whole
statement's (the rows' own writes are the same at every revision). With `--before REV` the same writes are timed
at that revision too (the database migrated down and up again between rounds), the median of `--rounds` each. Run
from the repository with its .venv:

    .venv/bin/python bench/triggers.py [--contacts 300] [--rounds 5] [--before 0026] [--sqlite]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]   (its database gets a _triggers twin)
"""

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import clock as journeys  # noqa: E402  (bench/clock.py)
from alembic import command  # noqa: E402
from ingest import fresh_postgres_database  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from reengage.platform import db  # noqa: E402

WRITES = {
    "a send's tallies on its dropoff": "UPDATE dropoffs SET messages_sent = messages_sent + 1, "
                                       "message_cost = message_cost + 0.001 WHERE status <> 'retracted'",
    "a dropoff's enrolled flag": "UPDATE dropoffs SET enrolled = NOT enrolled WHERE status <> 'retracted'",
    "a dropoff retracted (its groups rebuilt)": "UPDATE dropoffs SET status = 'retracted' WHERE status <> 'retracted'",
    "a sent message delivered": "UPDATE messages SET delivered_at = sent_at WHERE sent_at IS NOT NULL",
    "a sent message opened": "UPDATE messages SET opened_at = sent_at WHERE sent_at IS NOT NULL",
    "a sent message delivered and clicked": "UPDATE messages SET delivered_at = sent_at, clicked_at = sent_at "
                                            "WHERE sent_at IS NOT NULL",
}
TRIGGER_TIME = re.compile(r"^Trigger .*: time=([\d.]+) calls=(\d+)")


def timed(url: str) -> dict[str, tuple[float, int]]:
    """Each write's time in milliseconds (its triggers' on PostgreSQL, the whole statement's on SQLite) and the rows
    it wrote."""
    engine = create_engine(url)
    spent: dict[str, tuple[float, int]] = {}
    with engine.connect() as connection:
        for name, sql in WRITES.items():
            if engine.dialect.name == "sqlite":
                for _ in range(2):  # the second time: the statement and its triggers compiled once already
                    started = time.perf_counter()
                    written = connection.execute(text(sql)).rowcount
                    spent[name] = ((time.perf_counter() - started) * 1000, written)
                    connection.rollback()
                continue
            plan = [line for line, in connection.execute(text(f"EXPLAIN (ANALYZE) {sql}"))]
            connection.rollback()
            found = [TRIGGER_TIME.match(line) for line in plan]
            spent[name] = (sum(float(m.group(1)) for m in found if m),
                           max((int(m.group(2)) for m in found if m), default=0))
    engine.dispose()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", help="a revision to time the same writes at, for comparison")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sqlite", action="store_true", help="time the writes on SQLite instead, in process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/triggers.db" if args.sqlite else fresh_postgres_database(args.postgres, "triggers")
        measure(url, args)


def measure(url: str, args: argparse.Namespace) -> None:
    _, _, _, done = journeys.run(url, args.contacts, 4, timedelta(minutes=15))
    print(f"{done['dropoffs']:,} dropoffs, {done['sent']:,} messages sent")
    config = db.alembic_config(url)
    revisions = ["head", *([args.before] if args.before else [])]
    times: dict[str, dict[str, list[float]]] = {revision: {name: [] for name in WRITES} for revision in revisions}
    rows: dict[str, int] = {}
    for _ in range(args.rounds):
        for revision in revisions:
            if revision != "head":
                command.downgrade(config, revision)
            for name, (milliseconds, written) in timed(url).items():
                times[revision][name].append(milliseconds)
                rows[name] = max(rows.get(name, 0), written)
            if revision != "head":
                command.upgrade(config, "head")
    for name in WRITES:
        now = statistics.median(times["head"][name])
        line = f"{name:>40} ({rows[name]:,} rows): {'statement' if args.sqlite else 'triggers'} {now:7.1f} ms"
        if args.before:
            before = statistics.median(times[args.before][name])
            ratio = f" ({now / before:.2f}x)" if before else ""
            line += f", at {args.before} {before:7.1f} ms{ratio}"
        print(line + f" (median of {args.rounds})")


if __name__ == "__main__":
    main()
