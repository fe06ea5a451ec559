#!/usr/bin/env python3
"""Arrival-order benchmark: what judging a contact again costs when events arrive late.

For each backend, the same journeys (an application started, and for half the contacts completed two
hours later) are posted one event at a time through the API, once in the order they happened and
once goal first (every start then arrives late, so the contact is judged again from their events).
Prints events/s for both and the ratio of their times. Run from the repository with its .venv:

    .venv/bin/python bench/arrival.py [--contacts 300] [--postgres postgresql://postgres@127.0.0.1/timing]
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
from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from reengage import accounts  # noqa: E402
from reengage.jobs import clock  # noqa: E402
from reengage.models import Dropoff  # noqa: E402
from reengage.platform import db  # noqa: E402

START = datetime(2026, 6, 1, 9, tzinfo=UTC)


def journeys(contacts: int, goal_first: bool) -> list[dict]:
    """Each contact's events in the order they are posted."""
    posted = []
    for n in range(contacts):
        contact = {"external_id": f"c{n}"}
        start = {"id": f"s{n}", "type": "application_started", "occurred_at": START.isoformat(), "contact": contact}
        events = [start]
        if n % 2 == 0:
            goal = {"id": f"g{n}", "type": "application_completed", "contact": contact,
                    "occurred_at": (START + timedelta(hours=2)).isoformat()}
            events = [goal, start] if goal_first else [start, goal]
        posted.extend(events)
    return posted


def run(url: str, contacts: int, goal_first: bool) -> tuple[float, int, int]:
    """Seconds to post every event, how many events, and the dropoffs once the clock has passed the deadlines."""
    db.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "JOBS_INLINE": True, "REDIS_URL": None,
                      "LOG_LEVEL": "WARNING", "RATE_LIMIT": "1000000 per minute", "API_KEY_CACHE_SECONDS": 60})
    with app.app_context(), db.transaction() as db_session:
        _, key = accounts.create(db_session, "bench")
    client, headers = app.test_client(), {"Authorization": f"Bearer {key}"}
    events = journeys(contacts, goal_first)
    started = time.perf_counter()
    for body in events:
        assert client.post("/v1/events", json=body, headers=headers).status_code == 200
    elapsed = time.perf_counter() - started
    clock.tick(app, at=START + timedelta(days=2))
    with app.app_context():
        raised = db.session().scalar(select(func.count()).select_from(Dropoff).where(Dropoff.status == "open"))
        db.engine().dispose()
    return elapsed, len(events), raised


def backend(name: str, make_url, contacts: int) -> None:
    ordered, count, raised_ordered = run(make_url(), contacts, goal_first=False)
    late, _, raised_late = run(make_url(), contacts, goal_first=True)
    print(f"\n== {name}")
    for label, seconds, raised in (("in order", ordered, raised_ordered), ("goal first", late, raised_late)):
        print(f"{label:>10}: {count:,} events in {seconds:5.2f} s ({count / seconds:,.0f}/s); open dropoffs {raised:,}")
    print(f"ratio goal first / in order: {late / ordered:.2f}; same dropoffs: {raised_ordered == raised_late}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL URL to create the benchmark database beside; '' to skip")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        counter = iter(range(100))
        backend("sqlite", lambda: f"sqlite:///{folder}/arrival-{next(counter)}.db", args.contacts)
    if args.postgres:
        backend("postgresql", lambda: fresh_postgres_database(args.postgres), args.contacts)


if __name__ == "__main__":
    main()
