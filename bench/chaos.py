#!/usr/bin/env python3
"""Chaos run, long form: workers killed with kill -9 during 2,000+ sends, slow partners, against PostgreSQL and Redis.

Seeds 1,100 enrollments (2,200 emails due within two seconds, 22 webhook messages posted to a REST hook), runs
two RQ workers as the Procfile does (SimpleWorker, with the scheduler) and this process's clock and Event Webhook,
kills a worker with kill -9 (with its scheduler; another is started) each time a further ninth of the sends
has been POSTed, and waits until every message and delivery has
settled. SendGrid answers every 40th message after 4 s (the others at once); the REST hook target answers every
POST after 9.5 s; the connector timeout is the default 10 s. Then it prints what became of each message and
delivery against what the fake partners saw: the figures under "wrong" must all be 0.

    .venv/bin/python bench/chaos.py [--enrollments 1100] [--kills 8] [--postgres URL] [--redis URL]

A database beside --postgres's (its name + _bench) is dropped and created again; the --redis database is flushed.
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import fresh_postgres_database  # noqa: E402
from redis import Redis  # noqa: E402

from reengage.platform import db  # noqa: E402
from tests.support import chaos  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--enrollments", type=int, default=1100)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--slow-seconds", type=float, default=4.0)
    parser.add_argument("--hook-seconds", type=float, default=9.5)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL URL to create the benchmark database beside (its name + _bench)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/7", help="a Redis database the run may flush")
    args = parser.parse_args()
    url = fresh_postgres_database(args.postgres)
    db.upgrade(url.replace("postgresql://", "postgresql+psycopg://"))
    Redis.from_url(args.redis).flushdb()
    plan = chaos.Plan(enrollments=args.enrollments, hooked_every=50, refuse_every=7, drop_every=50, slow_every=40,
                      slow_seconds=args.slow_seconds, answer_seconds=0.02, hook_seconds=args.hook_seconds,
                      connector_timeout=10.0, workers=2, kills=args.kills,
                      settle_seconds=1800)
    started = time.monotonic()
    figures = chaos.run(url, args.redis, plan)
    print(chaos.report(figures))
    wrong = {name: figures[name] for name in chaos.WRONG if figures[name]}
    print(f"\n{time.monotonic() - started:.0f} s in all; wrong: {wrong or 'none'}")
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
