#!/usr/bin/env python3
"""Worker benchmark: events queued in Redis, then processed by a job worker.

For each backend, `--events` events of one account are posted through the API (Flask's test client) with jobs
queued in Redis and no worker running, first one event a request, then in batches of 500 (the baseline: the same
events in the fewest jobs). Each time a burst worker (`python -m reengage.jobs.worker --burst`) then processes the
queue until it is empty, after a first job of its own that only builds its app. The time from that job's end to the
last job's end (RQ's own timestamps) is printed as events/s, and the single events' rate as a ratio of the
batches'. Run from the repository with its .venv:

    .venv/bin/python bench/worker.py [--events 2000] [--rounds 2] [--redis redis://127.0.0.1:6379/10]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]   (its database gets a _worker twin; '' skips it)
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from redis import Redis
from rq import Queue
from rq.job import Job
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import scoreboard  # noqa: E402  (bench/scoreboard.py)
from ingest import BATCH, event, fresh_postgres_database  # noqa: E402

from app import create_app  # noqa: E402
from reengage import accounts  # noqa: E402
from reengage.jobs import worker_app  # noqa: E402
from reengage.platform import db  # noqa: E402

QUEUE = "bench-worker"


def environment(url: str, redis_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "REDIS_URL": redis_url, "RQ_QUEUE": QUEUE,
            "FLASK_APP": "app:app", "LOG_LEVEL": "WARNING", "CLOCK_IN_PROCESS": "false",
            "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}"}


def warm_up() -> None:
    """A worker's first job: it builds the worker's app, which its first real job would otherwise build."""
    worker_app()


def drain(url: str, redis_url: str, folder: str, warm: Job) -> float:
    """Seconds a burst worker takes over the jobs queued after `warm`: from `warm`'s end to the last job's end."""
    subprocess.run([sys.executable, "-m", "reengage.jobs.worker", "--burst", QUEUE], env=environment(url, redis_url),
                   cwd=folder, check=True, capture_output=True)
    connection = Redis.from_url(redis_url)
    finished = Queue(QUEUE, connection=connection).finished_job_registry.get_job_ids()
    jobs = [job for job in Job.fetch_many(finished, connection=connection) if job is not None]
    warm.refresh()
    assert warm.ended_at is not None, "the worker did not run its first job"
    return (max(job.ended_at for job in jobs if job.ended_at) - warm.ended_at).total_seconds()


def run(url: str, redis_url: str, events: int, folder: str, offset: int) -> dict[str, float]:
    """Events/s of the worker over `events` single events, and over the same number in batches."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "REDIS_URL": redis_url, "RQ_QUEUE": QUEUE,
                      "LOG_LEVEL": "WARNING", "CLOCK_IN_PROCESS": False, "RATE_LIMIT": "10000000 per minute",
                      "EVENT_RATE_LIMIT": "100000000 per minute"})
    with app.app_context(), db.transaction() as db_session:
        _, key = accounts.create(db_session, f"Bench {offset}")
    client, headers = app.test_client(), {"Authorization": f"Bearer {key}"}
    redis, rates = Redis.from_url(redis_url), {}
    for name in ("single", "batch"):
        redis.flushdb()
        warm = Queue(QUEUE, connection=redis).enqueue("worker.warm_up")
        numbers = range(offset + (events if name == "batch" else 0), offset + events * (2 if name == "batch" else 1))
        bodies = [event(n, 1_000) for n in numbers]
        parts = [bodies[i:i + BATCH] for i in range(0, len(bodies), BATCH)] if name == "batch" else bodies
        for part in parts:
            answer = client.post("/v1/events", json={"events": part} if name == "batch" else part, headers=headers)
            assert answer.status_code == 200, answer.json
        seconds = drain(url, redis_url, folder, warm)
        with app.app_context():
            left = db.session().scalar(text("SELECT count(*) FROM events WHERE processed_at IS NULL"))
        assert left == 0, f"{left} events left unprocessed"
        rates[name] = events / seconds
    with app.app_context():
        db.engine().dispose()
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/10", help="a Redis database it may flush")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    redis = Redis.from_url(args.redis)
    backends = [("sqlite", None)] + ([("postgresql", args.postgres)] if args.postgres else [])
    for name, postgres in backends:
        rates: dict[str, list[float]] = {"single": [], "batch": []}
        with tempfile.TemporaryDirectory() as folder:
            url = fresh_postgres_database(postgres, "worker") if postgres else f"sqlite:///{folder}/worker.db"
            db.upgrade(url)
            for round_ in range(args.rounds):
                for kind, rate in run(url, args.redis, args.events, folder, round_ * 10 * args.events).items():
                    rates[kind].append(rate)
        redis.flushdb()
        single, batch = statistics.median(rates["single"]), statistics.median(rates["batch"])
        print(f"{name:>10}: single events {single:,.0f}/s, in batches of {BATCH} {batch:,.0f}/s "
              f"(rounds: {', '.join(f'{s:,.0f}' for s in rates['single'])} and "
              f"{', '.join(f'{b:,.0f}' for b in rates['batch'])}); single / batch {single / batch:.2f}x")
        size = f"{args.events:,} events"
        scoreboard.record("worker", "queued single events processed, events/s", single, backend=name, size=size)
        scoreboard.record("worker", "queued single events / batches of 500", single / batch, backend=name, size=size)


if __name__ == "__main__":
    main()
