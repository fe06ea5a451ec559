#!/usr/bin/env python3
"""Clock benchmark: does a pass cost what is due, not what is stored?

For each backend: open 1,000,000 watches of which 10,000 are due and time the clock draining
the due ones; then again with 20,000 open watches, the same 10,000 of them due. Prints both
times, their ratio (target <= 1.5) and dropoffs raised per second (target >= 10,000/s on
SQLite). Run from the repository with its .venv:

    .venv/bin/python bench/detect.py [--open 1000000] [--due 10000] [--postgres postgresql://postgres@127.0.0.1/postgres]
"""

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import fresh_postgres_database  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from app import create_app  # noqa: E402
from reengage import accounts  # noqa: E402
from reengage.jobs import clock  # noqa: E402
from reengage.models import Contact, Dropoff, Event, Rule, Watch  # noqa: E402
from reengage.platform import db  # noqa: E402

NOW = datetime(2026, 6, 1, tzinfo=UTC)
CONTACTS = 10_000
CHUNK = 20_000


def seed(app, open_watches: int, due: int) -> None:
    """An account whose application rule watches `open_watches` attempts, `due` of them past due."""
    with app.app_context(), db.transaction() as db_session:
        account, _ = accounts.create(db_session, "bench")
        rule = db_session.scalar(select(Rule).where(Rule.account_id == account.id,
                                                    Rule.key == "application_abandoned"))
        account_id, rule_id = account.id, rule.id
        connection = db_session.connection()
        stamp = NOW - timedelta(days=2)
        connection.execute(insert(Contact), [
            {"account_id": account_id, "external_id": f"c{n}", "properties": {}, "consent": {},
             "created_at": stamp, "updated_at": stamp} for n in range(CONTACTS)])
        contact_ids = list(connection.scalars(select(Contact.id).where(Contact.account_id == account_id)
                                              .order_by(Contact.id)))
        connection.execute(insert(Event), [
            {"account_id": account_id, "key": f"start-{n}", "type": "application_started", "contact_id": cid,
             "occurred_at": stamp, "received_at": stamp, "properties": {}, "processed_at": stamp}
            for n, cid in enumerate(contact_ids)])
        event_ids = list(connection.scalars(select(Event.id).where(Event.account_id == account_id)
                                            .order_by(Event.id)))
    rows = []
    for n in range(open_watches):
        slot = n % CONTACTS
        deadline = NOW - timedelta(minutes=1) if n < due else NOW + timedelta(days=1 + n % 30)
        rows.append({"account_id": account_id, "rule_id": rule_id, "contact_id": contact_ids[slot],
                     "match_value": f"app-{n}", "start_event_id": event_ids[slot], "started_at": stamp,
                     "deadline": deadline, "due_at": deadline, "status": "open", "category": "", "details": {},
                     "created_at": stamp})
        if len(rows) == CHUNK or n == open_watches - 1:
            with app.app_context(), db.transaction() as db_session:
                db_session.connection().execute(insert(Watch), rows)
            rows = []


def drain(app) -> tuple[float, int]:
    """Seconds the clock takes to turn every due watch into a dropoff, and how many it raised."""
    started = time.perf_counter()
    while clock.tick(app, at=NOW)["expire_watches"]:
        pass
    elapsed = time.perf_counter() - started
    with app.app_context():
        raised = db.session().scalar(select(func.count()).select_from(Dropoff))
    return elapsed, raised


def run(url: str, open_watches: int, due: int) -> tuple[float, int]:
    db.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "JOBS_INLINE": True, "REDIS_URL": None,
                      "LOG_LEVEL": "WARNING"})
    seed(app, open_watches, due)
    if url.startswith("postgresql"):
        with app.app_context(), db.engine().connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
    result = drain(app)
    with app.app_context():
        db.engine().dispose()
    return result


def backend(name: str, make_url, open_watches: int, due: int) -> None:
    big, raised_big = run(make_url(), open_watches, due)
    small, raised_small = run(make_url(), due * 2, due)
    print(f"\n== {name}")
    for count, seconds, raised in ((open_watches, big, raised_big), (due * 2, small, raised_small)):
        print(f"{count:>9,} open, {due:,} due: {seconds:6.2f} s  ({raised:,} dropoffs, {raised / seconds:,.0f}/s)")
    print(f"ratio: {big / small:.2f} (target <= 1.5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--open", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL URL to create the benchmark database beside; '' to skip")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        counter = iter(range(100))
        backend("sqlite", lambda: f"sqlite:///{folder}/detect-{next(counter)}.db", args.open, args.due)
    if args.postgres:
        backend("postgresql", lambda: fresh_postgres_database(args.postgres).replace(
            "postgresql://", "postgresql+psycopg://"), args.open, args.due)


if __name__ == "__main__":
    main()
