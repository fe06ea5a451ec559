#!/usr/bin/env python3
"""Where a batch's time goes: CPU per event of each intake stage, in process, no HTTP.

Stages of a 500-event batch: JSON decoding, validation, storing (one transaction), and the
processing job (claiming the events and running them through the account's default rules;
two thirds of the benchmark's events start a watch, the rest reach a goal). Each is printed
with its share of the whole, so runs on a noisy machine compare by share. Then `--singles` events are stored and
processed one at a time, as single-event requests are: the CPU of a job of one event, against a batch's job per
event. Then, with `--history N`, batches of events of `--contacts` stored contacts (picked at random) until each has
about N events: the processing job's CPU per event over the last batches (contacts with about N events each), as a
ratio of the first ones (about five each): what a contact's history costs processing its next events. Run from the
repository with its .venv:

    .venv/bin/python bench/intake_stages.py [--batches 12] [--singles 500] [--history 50 --contacts 1000]
        [--postgres postgresql://postgres@127.0.0.1/postgres]
"""

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import scoreboard  # noqa: E402
from ingest import BATCH, event, fresh_postgres_database  # noqa: E402

from app import create_app  # noqa: E402
from reengage import accounts  # noqa: E402
from reengage.intake import ingest  # noqa: E402
from reengage.jobs.events import process_events  # noqa: E402
from reengage.platform import db  # noqa: E402

STAGES = ("decode", "validate", "store", "job")


def app_and_account(url: str, name: str) -> tuple[Flask, int]:
    """The app on `url` (jobs inline) and a new account's id, created as every account is, with the default rules:
    processing includes detection."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "JOBS_INLINE": True, "REDIS_URL": None,
                      "LOG_LEVEL": "WARNING"})
    with app.app_context(), db.transaction() as db_session:
        account, _ = accounts.create(db_session, name)
        return app, account.id


def measure(url: str, batches: int, singles: int) -> tuple[dict[str, float], float]:
    """CPU seconds per event of each stage, over `batches` batches after two warm-up ones; and of a job of one
    event, over `singles` of them after a tenth as many warm-up ones."""
    db.upgrade(url)
    app, account_id = app_and_account(url, "stages")
    start = int(time.time() * 1000) * BATCH
    bodies = [json.dumps({"events": [event(start + n * BATCH + i) for i in range(BATCH)]}) for n in range(batches + 2)]
    totals = dict.fromkeys(STAGES, 0.0)
    with app.test_request_context():
        for n, body in enumerate(bodies):
            marks = [time.process_time()]
            payload = json.loads(body)
            marks.append(time.process_time())
            events, _ = ingest.parse(payload)
            marks.append(time.process_time())
            _, new_ids = ingest._store_in_transaction([ingest.Batch(account_id, events, "events")])
            marks.append(time.process_time())
            process_events(new_ids)
            marks.append(time.process_time())
            if n >= 2:
                for stage, before, after in zip(STAGES, marks, marks[1:], strict=False):
                    totals[stage] += after - before
        start += (batches + 2) * BATCH
        warm, single = singles // 10, 0.0
        for n in range(warm + singles):
            events, _ = ingest.parse({"events": [event(start + n)]})
            _, new_ids = ingest._store_in_transaction([ingest.Batch(account_id, events, "events")])
            began = time.process_time()
            process_events(new_ids)
            if n >= warm:
                single += time.process_time() - began
    return {stage: seconds / (batches * BATCH) for stage, seconds in totals.items()}, single / max(1, singles)


def history(url: str, contacts: int, per_contact: int) -> tuple[float, float]:
    """CPU seconds per event of the processing job over the first batches of events of `contacts` contacts (about
    five events each by their end) and over as many last ones (about `per_contact` each)."""
    app, account_id = app_and_account(url, "history")
    batches = contacts * per_contact // BATCH
    measured = max(1, contacts * 5 // BATCH)
    random.seed(7)
    start = int(time.time() * 1000) * BATCH
    first = last = 0.0
    with app.test_request_context():
        for n in range(batches):
            events, _ = ingest.parse({"events": [event(start + n * BATCH + i, contacts) for i in range(BATCH)]})
            _, new_ids = ingest._store_in_transaction([ingest.Batch(account_id, events, "events")])
            began = time.process_time()
            process_events(new_ids)
            spent = time.process_time() - began
            if n < measured:
                first += spent
            elif n >= batches - measured:
                last += spent
    return first / (measured * BATCH), last / (measured * BATCH)


def report_history(name: str, contacts: int, per_contact: int, costs: tuple[float, float]) -> None:
    first, last = costs
    ratio = last / first
    print(f"processing, {contacts:,} contacts: {first * 1e6:.0f} us an event with about 5 events each, "
          f"{last * 1e6:.0f} us with about {per_contact}: {ratio:.2f}x")
    scoreboard.record("intake", f"processing CPU an event, {per_contact} events a contact / 5", ratio, backend=name,
                      size=f"{contacts:,} contacts", target="<= 1.2x", met=ratio <= 1.2)


def report(name: str, measured: tuple[dict[str, float], float]) -> None:
    costs, single = measured
    whole = sum(costs.values())
    print(f"\n== {name}: {whole * 1e6:.0f} us of CPU per event")
    for stage, seconds in costs.items():
        print(f"{stage:>9}: {seconds * 1e6:6.1f} us  {seconds / whole:5.0%}")
    if single:
        print(f"a job of one event: {single * 1e6:.0f} us ({single / costs['job']:.1f}x a batch's job per event)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=12)
    parser.add_argument("--singles", type=int, default=500, help="events stored and processed one at a time")
    parser.add_argument("--history", type=int, default=0, help="events a contact has by the end (0: skip)")
    parser.add_argument("--contacts", type=int, default=1000, help="contacts the history's events are spread over")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL URL to create the benchmark database beside; '' to skip")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        report("sqlite", measure(f"sqlite:///{folder}/stages.db", args.batches, args.singles))
        if args.history:
            report_history("sqlite", args.contacts, args.history,
                           history(f"sqlite:///{folder}/stages.db", args.contacts, args.history))
    if args.postgres:
        url = fresh_postgres_database(args.postgres).replace("postgresql://", "postgresql+psycopg://")
        report("postgresql", measure(url, args.batches, args.singles))
        if args.history:
            report_history("postgresql", args.contacts, args.history, history(url, args.contacts, args.history))


if __name__ == "__main__":
    main()
