#!/usr/bin/env python3
"""Dispatch benchmark: the clock claiming due messages, and workers sending them.

For each backend: 100,000 active enrollments with five scheduled messages each, 10,000 of
them due. Times the clock pass that claims the due ones (target <= 2 s) against the same pass
over 10,000 enrollments (the ratio shows whether a pass costs what is due or what is stored),
then two RQ workers sending the claimed messages to the outbox (no SendGrid account connected, so no
HTTP request is made; target >= 300 messages/s), against the same workers running as many empty jobs
(the ratio is what sending adds to RQ's own cost). Then the same sends through the SendGrid SDK to a
local stand-in of SendGrid's API (bench/sendgrid_stand_in.py in its own process: HTTP/1.1, answering each
mail after --latency-ms, 0 and 50 by default; targets >= 1,000 messages/s with none and >= 300/s with
50 ms), each with its ratio to the outbox run.

A rate is the messages sent over the time from the first send's claim to the last one's record (the
messages' own timestamps): the workers' start (imports, app, first connections) is left out, as a worker
that has run for a while has none. The wall time with it is printed beside.
Needs Redis. Run from the repository with its .venv:

    .venv/bin/python bench/dispatch.py [--enrollments 100000] [--due 10000] [--latency-ms 0,50]
        [--postgres URL] [--redis URL]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import scoreboard  # noqa: E402  (bench/scoreboard.py)
import sendgrid_stand_in  # noqa: E402  (bench/sendgrid_stand_in.py)
from ingest import fresh_postgres_database  # noqa: E402
from redis import Redis  # noqa: E402
from rq import Queue  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from app import create_app  # noqa: E402
from reengage import accounts, connections  # noqa: E402
from reengage.jobs import clock  # noqa: E402
from reengage.models import Contact, Enrollment, Message  # noqa: E402
from reengage.platform import db  # noqa: E402
from reengage.platform.timing import WEEKDAYS  # noqa: E402
from reengage.sequencing import flows  # noqa: E402

# A Tuesday, 15:00 UTC: inside the default send window of a UTC account.
NOW = datetime(2026, 6, 2, 15, 0, tzinfo=UTC)
STEPS = ("1.pick-up", "2.how-others-decided", "3.questions", "4.final-offer", "5.check-in")
CHUNK = 20_000
WORKERS = 2


class Holding:
    """A queue that only counts what it is given, so the claim is timed alone."""

    def __init__(self):
        self.jobs = []

    def enqueue(self, func, *args, job_id=None):
        self.jobs.append((func, args))


def seed(app, enrollments: int, due: int, sendgrid: sendgrid_stand_in.Running | None = None) -> None:
    """One account, a sales flow, `enrollments` contacts each enrolled with five messages; `due` of them due.

    With `sendgrid`, the account's email goes through SendGrid (the stand-in's key), not to the outbox."""
    with app.app_context(), db.transaction() as db_session:
        account, _ = accounts.create(db_session, "bench")
        if sendgrid is not None:
            connections.save(account.id, "sendgrid", {"api_key": sendgrid.api_key, "from_email": "hello@example.com"})
        # Workers send as of the wall clock, which may be a night or a weekend: every hour is open here.
        account.settings = {"send_window": {"start": "00:00", "end": "24:00", "days": list(WEEKDAYS)},
                            "skip_holidays": False}
        flow = flows.create(account.id, flows.check(flows.from_template("sales", {"holdout_percent": 0})))
        account_id, flow_id = account.id, flow.id
    stamp = NOW - timedelta(days=1)
    for start in range(0, enrollments, CHUNK):
        count = min(CHUNK, enrollments - start)
        with app.app_context(), db.transaction() as db_session:
            connection = db_session.connection()
            connection.execute(insert(Contact), [
                {"account_id": account_id, "external_id": f"c{n}", "email": f"c{n}@example.com", "properties": {},
                 "consent": {}, "created_at": stamp, "updated_at": stamp} for n in range(start, start + count)])
            contact_ids = list(connection.scalars(select(Contact.id).where(Contact.account_id == account_id)
                                                  .order_by(Contact.id.desc()).limit(count)))
            connection.execute(insert(Enrollment), [
                {"account_id": account_id, "flow_id": flow_id, "contact_id": cid, "status": "active",
                 "holdout": False, "variants": {}, "source": "bench", "started_at": stamp} for cid in contact_ids])
            enrollment_ids = list(connection.scalars(select(Enrollment.id).where(Enrollment.account_id == account_id)
                                                     .order_by(Enrollment.id.desc()).limit(count)))
            rows = []
            for n, (enrollment_id, contact_id) in enumerate(zip(enrollment_ids, contact_ids, strict=True)):
                first_due = start + n < due
                for index, step in enumerate(STEPS):
                    moment = NOW - timedelta(minutes=1) if index == 0 and first_due else NOW + timedelta(days=3 + index)
                    rows.append({"account_id": account_id, "enrollment_id": enrollment_id, "flow_id": flow_id,
                                 "contact_id": contact_id, "step": step, "phase": index + 1, "channel": "email",
                                 "status": "scheduled", "planned_at": moment, "due_at": moment, "attempts": 0,
                                 "content": {}, "created_at": stamp, "updated_at": stamp})
            connection.execute(insert(Message), rows)


def analyze(app, url: str) -> None:
    if url.startswith("postgresql"):
        with app.app_context(), db.engine().connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()


def claim(url: str, enrollments: int, due: int) -> float:
    """Seconds one clock pass takes to claim every due message (handing them to a queue that holds them)."""
    db.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "REDIS_URL": None, "LOG_LEVEL": "WARNING"})
    seed(app, enrollments, due)
    analyze(app, url)
    app.extensions["queue"] = holding = Holding()
    with app.app_context():
        started = time.perf_counter()
        claimed = clock.dispatch_due_messages(NOW)
        elapsed = time.perf_counter() - started
        db.engine().dispose()
    assert claimed == due, (claimed, due)
    assert sum(len(args[0]) for _, args in holding.jobs) == due
    return elapsed


def workers(url: str, redis_url: str, jobs: list[tuple], sendgrid: sendgrid_stand_in.Running | None = None) -> float:
    """Seconds two burst RQ workers take to run `jobs` (enqueued first)."""
    connection = Redis.from_url(redis_url)
    connection.flushdb()
    rq_queue = Queue("default", connection=connection)
    for job, args in jobs:
        rq_queue.enqueue(job, *args)
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"}
    if sendgrid is not None:
        env["SENDGRID_API_HOST"] = sendgrid.url
    started = time.perf_counter()
    # As the Procfile runs them: without a fork per job, so the code is imported once per worker.
    processes = [subprocess.Popen([str(ROOT / ".venv/bin/rq"), "worker", "--burst", "--quiet", "-u", redis_url,
                                   "--worker-class", "rq.worker.SimpleWorker", "default"], cwd=ROOT, env=env)
                 for _ in range(WORKERS)]
    for process in processes:
        process.wait()
    return time.perf_counter() - started


def send(url: str, redis_url: str, enrollments: int, due: int,
         sendgrid: sendgrid_stand_in.Running | None = None) -> tuple[float, float, float, int]:
    """Seconds two workers take to send `due` claimed messages (from the first send's claim to the last one's
    record), their wall time with their start, seconds for as many empty jobs, and how many went."""
    db.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "REDIS_URL": None, "LOG_LEVEL": "WARNING"})
    seed(app, enrollments, due, sendgrid)
    analyze(app, url)
    app.extensions["queue"] = holding = Holding()
    with app.app_context(), db.as_of(NOW):
        clock.dispatch_due_messages(NOW)
    empty = workers(url, redis_url, [(len, args) for _, args in holding.jobs])
    wall = workers(url, redis_url, holding.jobs, sendgrid)
    with app.app_context():
        sent, first, last = db.session().execute(
            select(func.count(), func.min(Message.queued_at), func.max(Message.sent_at))
            .where(Message.status == "sent")).one()
        sending = (last - first).total_seconds()
        if sent < due:
            print("  not all sent:", dict(db.session().execute(
                select(Message.status, func.count()).where(Message.due_at <= NOW).group_by(Message.status)).all()))
        db.engine().dispose()
    if sendgrid is not None:
        counted = sendgrid.stats()
        assert counted == {"sent": sent, "repeated": 0, "unnamed": 0}, (counted, sent)  # each went once
    return sending, wall, empty, sent


def through_sendgrid(make_url, redis_url: str, due: int, latency_ms: float) -> tuple[float, float, int]:
    """Seconds two workers take to send `due` emails through the SDK to a stand-in answering after `latency_ms`,
    their wall time, and how many went."""
    stand_in = sendgrid_stand_in.Running(latency_ms)
    try:
        sending, wall, _, sent = send(make_url(), redis_url, due, due, stand_in)
    finally:
        stand_in.close()
    return sending, wall, sent


def backend(name: str, make_url, redis_url: str, enrollments: int, due: int, latencies: list[float],
            claims: bool) -> None:
    print(f"\n== {name}", flush=True)
    if claims:
        big = claim(make_url(), enrollments, due)
        small = claim(make_url(), due, due)
        print(f"claim {due:,} due among {enrollments * len(STEPS):,} messages: {big:6.2f} s (target <= 2 s)")
        print(f"claim {due:,} due among {due * len(STEPS):,} messages: {small:6.2f} s; ratio {big / small:.2f}")
    sending, wall, empty, sent = send(make_url(), redis_url, due, due)
    outbox = sent / sending
    print(f"{WORKERS} workers sent {sent:,} messages to the outbox in {sending:6.2f} s ({wall:.2f} s with their "
          f"start): {outbox:,.0f} messages/s (target >= 300); the same jobs empty took {empty:.2f} s with the "
          f"workers' start (ratio {wall / empty:.2f})", flush=True)
    for latency in latencies:
        seconds, wall, went = through_sendgrid(make_url, redis_url, due, latency)
        target = 1000 if latency == 0 else 300
        print(f"{WORKERS} workers sent {went:,} emails through SendGrid's SDK ({latency:g} ms latency) in "
              f"{seconds:6.2f} s ({wall:.2f} s with their start): {went / seconds:,.0f} messages/s "
              f"(target >= {target:,}); ratio to the outbox {went / seconds / outbox:.2f}", flush=True)
        kind = "postgresql" if name.lower().startswith("postgres") else "sqlite"
        scoreboard.record("sending", f"SDK to a fake, {latency:g} ms latency, messages/s", went / seconds,
                          backend=kind, size=f"{due:,} due", target=f">= {target:,}/s", met=went / seconds >= target)
        scoreboard.record("sending", f"SDK ({latency:g} ms) / outbox path", went / seconds / outbox, backend=kind,
                          size=f"{due:,} due")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--enrollments", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL URL to create the benchmark database beside; '' to skip")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/7", help="a Redis database the run may flush")
    parser.add_argument("--latency-ms", default="0,50",
                        help="SendGrid stand-in answer latencies to send through, comma separated; '' for none")
    parser.add_argument("--sends-only", action="store_true", help="skip the clock's claim timings")
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True, help="run on SQLite too")
    args = parser.parse_args()
    latencies = [float(value) for value in args.latency_ms.split(",") if value.strip()]
    if args.sqlite:
        with tempfile.TemporaryDirectory() as folder:
            counter = iter(range(100))
            backend("sqlite", lambda: f"sqlite:///{folder}/dispatch-{next(counter)}.db", args.redis,
                    args.enrollments, args.due, latencies, not args.sends_only)
    if args.postgres:
        backend("postgresql", lambda: fresh_postgres_database(args.postgres).replace(
            "postgresql://", "postgresql+psycopg://"), args.redis, args.enrollments, args.due, latencies,
                not args.sends_only)


if __name__ == "__main__":
    main()
