#!/usr/bin/env python3
"""Clock benchmark: the same journeys replayed by the clock on SQLite and on PostgreSQL.

For each backend: an account with the sales flow, `--contacts` applications started (half of them completed
two hours later) posted through the API, then the clock ticking every `--step-minutes` over `--days` days
as of those times (jobs run inline, email to the outbox): watches expire into dropoffs, dropoffs are
enrolled, messages come due and are sent. Prints the ticks' total time on each backend, what they did,
and the ratio PostgreSQL / SQLite (target <= 1.5), the medians of `--rounds` runs of each, one after the other
(a noisy moment of the machine falls on both). Then, on the database the replay left (three messages a contact),
the time of the question every tick asks first (which tasks have work), as an idle tick asks it. Like `flask clock`,
a round keeps what was built before its ticks out of the garbage collector's full passes (reengage.platform.process);
the collector's time within the ticks is printed too. Run from the repository with its .venv:

    .venv/bin/python bench/clock.py [--contacts 300] [--days 4] [--step-minutes 15] [--rounds 3]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]   (its database gets a _bench twin)
"""

import argparse
import gc
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import scoreboard  # noqa: E402  (bench/scoreboard.py)
from ingest import fresh_postgres_database  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from reengage import accounts  # noqa: E402
from reengage.jobs import clock  # noqa: E402
from reengage.models import Account, Dropoff, Message  # noqa: E402
from reengage.platform import db, process  # noqa: E402
from reengage.platform.timing import WEEKDAYS  # noqa: E402

START = datetime(2026, 6, 1, 9, tzinfo=UTC)


def journeys(contacts: int) -> list[dict]:
    """Each contact starts an application; every other one completes it two hours later."""
    posted = []
    for n in range(contacts):
        contact = {"external_id": f"c{n}", "email": f"c{n}@example.com", "phone": f"+1415555{n:04d}"}
        posted.append({"id": f"s{n}", "type": "application_started", "occurred_at": START.isoformat(),
                       "contact": contact, "properties": {"deep_link": f"https://app.example.com/resume/{n}"}})
        if n % 2 == 0:
            posted.append({"id": f"g{n}", "type": "application_completed", "contact": contact,
                           "occurred_at": (START + timedelta(hours=2)).isoformat()})
    return posted


class Collecting:
    """A gc callback: the time the garbage collector took, in seconds."""

    def __init__(self) -> None:
        self.seconds, self._began = 0.0, 0.0

    def __call__(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._began


QUESTIONS = 300


def run(url: str, contacts: int, days: int, step: timedelta) -> tuple[float, int, float, dict[str, int], float]:
    """Seconds the ticks took in all, how many ticks, the seconds of garbage collection within them, the dropoffs
    and messages sent at the end, and the seconds of one asking of the tick's question at the end."""
    db.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "JOBS_INLINE": True, "REDIS_URL": None,
                      "LOG_LEVEL": "WARNING", "RATE_LIMIT": "1000000 per minute", "API_KEY_CACHE_SECONDS": 60})
    with app.app_context(), db.transaction() as db_session:
        account, key = accounts.create(db_session, "bench")
        account.settings = {"send_window": {"start": "00:00", "end": "24:00", "days": list(WEEKDAYS)},
                            "skip_holidays": False}
    client, headers = app.test_client(), {"Authorization": f"Bearer {key}"}
    assert client.post("/v1/flows", json={"template": "sales", "holdout_percent": 0},
                       headers=headers).status_code == 201
    for body in journeys(contacts):
        answer = client.post("/v1/events", json=body, headers=headers)
        assert answer.status_code == 200, answer.json
    ticks, spent, at = 0, 0.0, START
    collecting = Collecting()
    process.started()  # as `flask clock` does once its app is built
    gc.callbacks.append(collecting)
    try:
        while at <= START + timedelta(days=days):
            started = time.perf_counter()
            clock.tick(app, at=at)
            spent += time.perf_counter() - started
            ticks, at = ticks + 1, at + step
    finally:
        gc.callbacks.remove(collecting)
        gc.unfreeze()  # the next round's app stands for another process's
    with app.app_context():
        started = time.perf_counter()
        for _ in range(QUESTIONS):
            clock.with_work(at, clock.TASKS)
        asking = (time.perf_counter() - started) / QUESTIONS
        done = {"dropoffs": db.session().scalar(select(func.count()).select_from(Dropoff)),
                "sent": db.session().scalar(select(func.count()).select_from(Message).where(Message.status == "sent")),
                "accounts": db.session().scalar(select(func.count()).select_from(Account))}
        db.engine().dispose()
    return spent, ticks, collecting.seconds, done, asking


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--step-minutes", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=3,
                        help="runs of both backends, one after the other; the median of each is reported")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL URL to create the benchmark database beside")
    args = parser.parse_args()
    step = timedelta(minutes=args.step_minutes)
    runs: dict[str, list[tuple[float, int, float, dict[str, int], float]]] = {"sqlite": [], "postgresql": []}
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as folder:
            runs["sqlite"].append(run(f"sqlite:///{folder}/clock.db", args.contacts, args.days, step))
        runs["postgresql"].append(run(fresh_postgres_database(args.postgres), args.contacts, args.days, step))
    for name, done in runs.items():
        seconds, ticks, outcome = statistics.median(r[0] for r in done), done[0][1], done[0][3]
        print(f"{name:>10}: {ticks:,} ticks in {seconds:6.2f} s, median of {', '.join(f'{r[0]:.2f}' for r in done)} "
              f"({seconds / ticks * 1000:6.1f} ms a tick); {outcome['dropoffs']:,} dropoffs, "
              f"{outcome['sent']:,} messages sent; garbage collection "
              f"{', '.join(f'{r[2] * 1000:.0f}' for r in done)} ms; then a tick's question "
              f"{statistics.median(r[4] for r in done) * 1000:.2f} ms")
    ratios = [pg[0] / lite[0] for lite, pg in zip(runs["sqlite"], runs["postgresql"], strict=True)]
    ratio = statistics.median(r[0] for r in runs["postgresql"]) / statistics.median(r[0] for r in runs["sqlite"])
    same = all(r[3] == runs["sqlite"][0][3] for done in runs.values() for r in done)
    print(f"ratio postgresql / sqlite (medians): {ratio:.2f} (target <= 1.5); each round: "
          f"{', '.join(f'{r:.2f}' for r in ratios)}; same outcome: {same}")
    scoreboard.record("clock", "replayed journeys' ticks, PostgreSQL / SQLite", ratio, backend="both",
                      size=f"{args.contacts:,} contacts, {runs['sqlite'][0][1]:,} ticks", target="<= 1.5x",
                      met=ratio <= 1.5)


if __name__ == "__main__":
    main()
