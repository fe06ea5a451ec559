#!/usr/bin/env python3
"""Backlog benchmark: another account's requests while the server processes a backlog of events.

gunicorn on the embedded default (SQLite, jobs in the web workers), or on PostgreSQL with --postgres (its
database gets a _backlog twin; jobs still in the web workers). Account B sends single events and GET /v1/me
one after another, first alone (quiet), then while account A's `--backlog` events (posted as 1,000-event
batches, all at once) wait to be processed, until every one of them is processed. Prints B's p50 and p99 in
both phases, how long the backlog took, and whether B's p99 stayed within 100 ms (the target). Run from the
repository with its .venv:

    .venv/bin/python bench/backlog.py [--backlog 3000] [--seconds 5] [--rounds 3]
        [--postgres postgresql://postgres@127.0.0.1:5432/intake]
"""

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scoreboard
from fairness import Client, create_key, percentiles
from ingest import BIN, environment, event, free_port, fresh_postgres_database, start_server, stop_server
from sqlalchemy import create_engine, text

BATCH = 1000
TARGET_P99_MS = 100.0


def other_requests(port: int, key: str, counter, until) -> list[float]:
    """A single event, then GET /v1/me, and again, until `until()` says stop; each one's latency."""
    client, latencies = Client(port, key), []
    while not until():
        for body, method, path in ((json.dumps(event(next(counter))).encode(), "POST", "/v1/events"),
                                   (None, "GET", "/v1/me")):
            status, took, _, _ = client.send(body, method, path)
            if status != 200:
                raise SystemExit(f"the other account was answered HTTP {status} on {method} {path}")
            latencies.append(took)
    return latencies


def post_backlog(port: int, key: str, counter, total: int) -> None:
    """Post `total` events as 1,000-event batches, each from its own connection, all at once."""
    def post(count: int) -> None:
        body = json.dumps({"events": [event(next(counter)) for _ in range(count)]}).encode()
        status, _, _, answer = Client(port, key).send(body, "POST", "/v1/events")
        if status != 200:
            raise SystemExit(f"a backlog batch was answered HTTP {status}: {answer[:200]!r}")

    posters = [threading.Thread(target=post, args=(min(BATCH, total - start),)) for start in range(0, total, BATCH)]
    for poster in posters:
        poster.start()
    for poster in posters:
        poster.join()


def unprocessed(engine) -> int:
    """The backlog's events not processed yet (the other account's own, always some in flight, are not waited for)."""
    with engine.connect() as connection:
        return connection.execute(text(
            "SELECT count(*) FROM events JOIN accounts ON accounts.id = events.account_id "
            "WHERE events.processed_at IS NULL AND accounts.name = 'Loader'")).scalar_one()


def for_seconds(seconds: float):
    """A test that turns true once `seconds` have passed."""
    stop_at = time.perf_counter() + seconds
    return lambda: time.perf_counter() > stop_at


def wait_processed(poster: threading.Thread, engine, done: threading.Event) -> None:
    """Once the backlog is posted, wait until none of its events is left unprocessed, then set `done`."""
    poster.join()
    while unprocessed(engine):
        time.sleep(0.05)
    done.set()


def run(backlog: int, seconds: float, rounds: int, database_url: str | None) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = environment(port, database_url)
        if database_url:
            subprocess.run([BIN / "flask", "db", "upgrade"], cwd=folder, env=env, check=True, capture_output=True)
        server = start_server(env, Path(folder), port)
        engine = create_engine((database_url or f"sqlite:///{folder}/reengage.db")
                               .replace("postgresql://", "postgresql+psycopg://"))
        try:
            loader, other = create_key(env, folder, "Loader"), create_key(env, folder, "Other")
            other_counter, loader_counter = itertools.count(), itertools.count(1_000_000)
            other_requests(port, other, other_counter, for_seconds(1.0))  # warm up both workers
            alone, busy, took = [], [], []
            for _ in range(rounds):
                alone += other_requests(port, other, other_counter, for_seconds(seconds))
                started, done = time.perf_counter(), threading.Event()
                poster = threading.Thread(target=post_backlog, args=(port, loader, loader_counter, backlog))
                poster.start()
                watcher = threading.Thread(target=wait_processed, args=(poster, engine, done))
                watcher.start()
                busy += other_requests(port, other, other_counter, done.is_set)
                watcher.join()
                took.append(time.perf_counter() - started)
        finally:
            engine.dispose()
            stop_server(server)
    return {"alone": percentiles(alone), "busy": percentiles(busy), "samples": len(busy), "took": took}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backlog", type=int, default=3000, help="events posted at once by the loading account")
    parser.add_argument("--seconds", type=float, default=5.0, help="time spent on each quiet phase")
    parser.add_argument("--rounds", type=int, default=3, help="quiet phase, then a backlog, this many times")
    parser.add_argument("--postgres", default="", help="run on a twin of this PostgreSQL database (default: SQLite)")
    args = parser.parse_args()
    database_url = fresh_postgres_database(args.postgres, "backlog") if args.postgres else None
    result = run(args.backlog, args.seconds, args.rounds, database_url)
    (alone_p50, alone_p99), (busy_p50, busy_p99) = result["alone"], result["busy"]
    backend = "postgresql" if database_url else "sqlite"
    print(f"backend: {'PostgreSQL' if database_url else 'SQLite (embedded default)'}")
    print(f"other account, alone:             p50 {alone_p50:8.1f} ms  p99 {alone_p99:8.1f} ms")
    print(f"other account, during a backlog:  p50 {busy_p50:8.1f} ms  p99 {busy_p99:8.1f} ms "
          f"({result['samples']} requests)")
    print(f"{args.backlog:,}-event backlog posted and processed in "
          f"{', '.join(f'{seconds:.1f}' for seconds in result['took'])} s")
    verdict = "met" if busy_p99 <= TARGET_P99_MS else "NOT met"
    print(f"p99 during the backlog: {busy_p99:.0f} ms (target <= {TARGET_P99_MS:.0f} ms: {verdict}); "
          f"p50 during / alone: {busy_p50 / alone_p50:.2f}x; p99 during / alone: {busy_p99 / alone_p99:.2f}x")
    size = f"{args.backlog:,}-event backlog"
    scoreboard.record("backlog", "other account's p99 during a backlog (ms)", busy_p99, backend=backend, size=size,
                      target=f"<= {TARGET_P99_MS:.0f} ms", met=busy_p99 <= TARGET_P99_MS)
    scoreboard.record("backlog", "other account's p99, during / alone", busy_p99 / alone_p99, backend=backend,
                      size=size)


if __name__ == "__main__":
    main()
