#!/usr/bin/env python3
"""Polling and REST hook benchmark.

1. With dropoffs across 100 accounts at each size of `--sizes` (default 10,000 then 1,000,000, added to the
   same database), GET /v1/triggers/dropoff.detected?limit=100 against the no-op baseline (GET /v1/me:
   authentication only) in the same run: mean, p50, p99 and requests/s, the ratios to the baseline (target:
   mean and p99 at most 4x) and, at the end, each size's poll against the first size's, raw and as each size's
   poll over the GET /v1/me measured beside it (the target, at most 1.2x: the sizes are timed minutes apart);
   the same for a poll whose filter matches no dropoff.
   With `--before <checkout>` (e.g. the main branch's worktree) the same figures come from that code too,
   served on the same database in the same run.
2. REST hook latency: a rule that waits 2 s, a hook on dropoff.detected aimed at a local receiver; the
   time from each deadline to the delivery's arrival (target: median at most 2 s).

    .venv/bin/python bench/poll.py [--sizes 10000,1000000] [--requests 2000] [--before /work/main]
                                   [--postgres postgresql://...]   (its database gets a _bench twin)
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import scoreboard  # bench/scoreboard.py, beside this script
from ingest import fresh_postgres_database, stop_server

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT))
ACCOUNTS, CONTACTS_PER_ACCOUNT, CHUNK = 100, 1000, 20_000
POLL = "/v1/triggers/dropoff.detected?limit=100"
# A filter no dropoff matches: without an index of its own it walks the account's every dropoff.
EMPTY = "/v1/triggers/dropoff.detected?limit=100&stage=onboarding"


def setup(database_url: str, folder: Path) -> list[tuple[int, str]]:
    """Create the accounts (answering their ids and keys) and their contacts straight into the database."""
    os.chdir(folder)
    from sqlalchemy import insert

    from reengage import accounts
    from reengage.models import Contact
    from reengage.platform import db

    with app_for(database_url).app_context():
        db.upgrade(database_url)
        keys = []
        for number in range(ACCOUNTS):
            with db.transaction() as session:
                account, key = accounts.create(session, f"Bench {number}")
                keys.append((account.id, key))
        now = datetime.now(UTC)
        with db.transaction() as session:
            for account_id, _ in keys:
                rows = [{"account_id": account_id, "external_id": f"c{n}", "email": f"c{n}@a{account_id}.example",
                         "properties": {}, "consent": {}, "created_at": now, "updated_at": now}
                        for n in range(CONTACTS_PER_ACCOUNT)]
                session.execute(insert(Contact), rows)
    return keys


def app_for(database_url: str):
    """An app on the benchmark's database that runs no clock."""
    from app import create_app

    return create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench", "CLOCK_IN_PROCESS": False,
                       "LOG_LEVEL": "WARNING"})


def load(database_url: str, keys: list[tuple[int, str]], made: int, dropoffs: int, newest: datetime) -> None:
    """Add dropoffs `made` to `dropoffs`, each older than the last, spread over the accounts."""
    from sqlalchemy import insert, select

    from reengage.models import Contact, Dropoff
    from reengage.platform import db

    try:  # the code before trigger items were kept has nothing to publish them with
        from triggers import TRIGGERS, polling
        from triggers.polling import store

        def publish(account_id: int, ids: list[int]) -> None:
            trigger = TRIGGERS["dropoff.detected"]
            store(trigger, account_id, polling.by_ids(trigger, account_id, ids), newest)
    except ImportError:
        publish = None
    with app_for(database_url).app_context():
        contact_ids: dict[int, list[int]] = {}
        for account_id, contact_id in db.session().execute(select(Contact.account_id, Contact.id).order_by(Contact.id)):
            contact_ids.setdefault(account_id, []).append(contact_id)
        db.session().close()
        while made < dropoffs:
            rows = []
            for n in range(made, min(made + CHUNK, dropoffs)):
                account_id = keys[n % ACCOUNTS][0]
                at = newest - timedelta(seconds=n)
                rows.append({"account_id": account_id, "rule_key": "bench", "rule_id": None,
                             "contact_id": contact_ids[account_id][n // ACCOUNTS % CONTACTS_PER_ACCOUNT],
                             "match_value": str(n), "scenario": "sales.application_abandoned", "stage": "sales",
                             "kind": "inactivity", "category": "inactive", "intent": "high", "started_at": at,
                             "occurred_at": at, "detected_at": at, "status": "dismissed", "segment": {},
                             "ready_at": at})
            with db.transaction() as session:
                made_ids = session.execute(insert(Dropoff).returning(Dropoff.account_id, Dropoff.id), rows).all()
                if publish is not None:  # as detection does: each dropoff kept as polls answer it
                    by_account: dict[int, list[int]] = {}
                    for account_id, dropoff_id in made_ids:
                        by_account.setdefault(account_id, []).append(dropoff_id)
                    for account_id, ids in by_account.items():
                        publish(account_id, ids)
            made += len(rows)
        if database_url.startswith("postgresql"):
            with db.engine().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE dropoffs")


def start(code: Path, folder: Path, port: int, database_url: str) -> subprocess.Popen:
    """Serve `code` (a checkout) on the database; ready once it answers /livez."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    env.update(PYTHONPATH=str(code), PORT=str(port), WEB_CONCURRENCY="2", LOG_LEVEL="WARNING", ACCESS_LOG="",
               RATE_LIMIT="100000000 per minute", CLOCK_INTERVAL_SECONDS="0.25",
               HOOK_ALLOWED_NETWORKS="127.0.0.0/8", HOOK_REQUIRE_HTTPS="false", DATABASE_URL=database_url,
               SECRET_KEY="bench")
    server = subprocess.Popen([BIN / "gunicorn", "-c", code / "gunicorn.conf.py", "app:app"], cwd=folder, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/livez")
            if connection.getresponse().status == 200:
                time.sleep(1.0)
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("server did not start")


def hammer(port: int, paths: list[tuple[str, str]], total: int, threads: int = 4) -> tuple[list[float], float]:
    """Send `total` GETs (path, key) over keep-alive connections from `threads` threads; (latencies ms, req/s)."""
    latencies: list[float] = []
    lock, counter = threading.Lock(), iter(range(total))

    def work():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for n in counter:
            path, key = paths[n % len(paths)]
            began = time.perf_counter()
            connection.request("GET", path, headers={"Authorization": f"Bearer {key}"})
            response = connection.getresponse()
            response.read()
            assert response.status == 200, response.status
            mine.append((time.perf_counter() - began) * 1000)
        with lock:
            latencies.extend(mine)

    began = time.perf_counter()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return latencies, total / (time.perf_counter() - began)


def figures(latencies: list[float]) -> tuple[float, float, float]:
    """(mean, p50, p99) in ms."""
    ordered = sorted(latencies)
    return statistics.fmean(ordered), statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


def measure(port: int, keys: list[str], requests: int) -> dict[str, tuple[float, ...]]:
    """GET /v1/me, then the 100-item poll, on one server: (mean, p50, p99, req/s) of each."""
    hammer(port, [("/v1/me", key) for key in keys], 200)  # warm both workers
    hammer(port, [(POLL, key) for key in keys], 100)
    base, base_rate = hammer(port, [("/v1/me", key) for key in keys], requests)
    poll, poll_rate = hammer(port, [(POLL, key) for key in keys], requests)
    empty, empty_rate = hammer(port, [(EMPTY, key) for key in keys], requests)
    return {"me": (*figures(base), base_rate), "poll": (*figures(poll), poll_rate),
            "empty": (*figures(empty), empty_rate)}


def show(label: str, size: int, got: dict[str, tuple[float, ...]], backend: str) -> None:
    for name, path in (("me", "GET /v1/me"), ("poll", "poll dropoff.detected (100)"),
                       ("empty", "poll, a filter matching none")):
        mean, p50, p99, rate = got[name]
        print(f"  {label:6} {size:>9,} {path:28} mean {mean:6.2f} ms  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  "
              f"{rate:6.0f} req/s")
    (bm, _, b99, _), (pm, _, p99, _) = got["me"], got["poll"]
    print(f"  {label:6} {size:>9,} ratio poll/me: mean {pm / bm:.2f}x  p99 {p99 / b99:.2f}x (target <= 4x)")
    if label == "after":
        for which, ratio in (("mean", pm / bm), ("p99", p99 / b99)):
            scoreboard.record("polling", f"100-item poll / GET /v1/me, {which}", ratio, backend=backend,
                              size=f"{size:,} dropoffs", target="<= 4x", met=ratio <= 4)


def hook_latency(port: int, key: str, count: int) -> list[float]:
    """Seconds from each dropoff's deadline to its delivery at a local receiver."""
    arrived: dict[str, float] = {}

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            item = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            arrived[item["contact"]["external_id"]] = time.time()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()

    def call(method, path, body):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request(method, path, json.dumps(body), {"Authorization": f"Bearer {key}",
                                                             "Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status in (200, 201), response.read()
        return json.loads(response.read())

    call("POST", "/v1/rules", {"key": "bench_quick", "scenario": "sales.went_silent", "kind": "inactivity",
                               "params": {"start_events": ["bench_started"], "goal_events": ["bench_done"],
                                          "wait": "PT2S"}})
    call("POST", "/v1/hooks", {"target_url": f"http://127.0.0.1:{receiver.server_address[1]}/hook",
                               "event": "dropoff.detected", "filters": {"rule": "bench_quick"}})
    deadlines = {}
    for n in range(count):
        started = datetime.now(UTC)
        call("POST", "/v1/events", {"id": f"hook-{n}", "type": "bench_started", "occurred_at": started.isoformat(),
                                    "contact": {"external_id": f"hook-{n}"}})
        deadlines[f"hook-{n}"] = started.timestamp() + 2
        time.sleep(0.05)
    end = time.time() + 30
    while len(arrived) < count and time.time() < end:
        time.sleep(0.1)
    receiver.shutdown()
    return [arrived[name] - deadline for name, deadline in deadlines.items() if name in arrived]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,1000000", help="dropoff counts measured at, ascending")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--hooks", type=int, default=40)
    parser.add_argument("--before", type=Path, help="a checkout of the code to compare with, on the same data")
    parser.add_argument("--postgres", help="a PostgreSQL URL to run on instead of SQLite (a _bench twin is made)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    if sizes[0] < ACCOUNTS * 100:
        print(f"note: at {sizes[0]:,} dropoffs an account has fewer than the 100 a page holds, so the smaller size's "
              "pages are shorter and its poll cheaper: sizes compare like for like from 10,000 up")
    codes = {"after": ROOT, **({"before": args.before.resolve()} if args.before else {})}
    with tempfile.TemporaryDirectory() as name:
        folder, port = Path(name), 8700 + os.getpid() % 200
        if args.postgres:
            url = fresh_postgres_database(args.postgres)
        else:
            url = f"sqlite:///{folder / 'bench.db'}"
        print(f"{'PostgreSQL' if args.postgres else 'SQLite'}; each figure over {args.requests} requests, 4 threads")
        keys, made, newest = setup(url, folder), 0, datetime.now(UTC)
        results: dict[tuple[str, int], dict[str, tuple[float, ...]]] = {}
        for size in sizes:
            began = time.perf_counter()
            load(url, keys, made, size, newest)
            made = size
            print(f"{size:,} dropoffs across {ACCOUNTS} accounts (loaded in {time.perf_counter() - began:.0f} s)")
            for label, code in codes.items():
                server = start(code, folder, port, url)
                try:
                    results[label, size] = measure(port, [key for _, key in keys], args.requests)
                finally:
                    stop_server(server)
                show(label, size, results[label, size], "postgresql" if args.postgres else "sqlite")
        for label in codes:
            first, first_me = results[label, sizes[0]]["poll"], results[label, sizes[0]]["me"]
            for size in sizes[1:]:
                then, then_me = results[label, size]["poll"], results[label, size]["me"]
                # Each size's poll measured against GET /v1/me measured beside it: the sizes are timed minutes
                # apart, and the machine's speed drifts in between.
                flat = (then[0] / then_me[0]) / (first[0] / first_me[0])
                print(f"{label}: poll at {size:,} against {sizes[0]:,}: mean {then[0] / first[0]:.2f}x  "
                      f"p99 {then[2] / first[2]:.2f}x; each against GET /v1/me beside it: mean {flat:.2f}x  "
                      f"p99 {(then[2] / then_me[2]) / (first[2] / first_me[2]):.2f}x (target <= 1.2x)")
                if label == "after":
                    scoreboard.record("polling", "poll cost over GET /v1/me, large / small (mean)", flat,
                                      backend="postgresql" if args.postgres else "sqlite",
                                      size=f"{size:,} vs {sizes[0]:,}", target="<= 1.2x", met=flat <= 1.2)
                none, then = results[label, sizes[0]]["empty"], results[label, size]["empty"]
                print(f"{label}: filter matching none at {size:,} against {sizes[0]:,}: mean "
                      f"{then[0] / none[0]:.2f}x  p99 {then[2] / none[2]:.2f}x")
        if args.hooks:
            server = start(ROOT, folder, port, url)
            try:
                delays = hook_latency(port, keys[0][1], args.hooks)
            finally:
                stop_server(server)
            if delays:
                print(f"hook delivery after the deadline: {len(delays)}/{args.hooks} arrived, median "
                      f"{statistics.median(delays):.2f} s, max {max(delays):.2f} s (target median <= 2 s)")
            else:
                print("hook delivery: nothing arrived within 30 s")


if __name__ == "__main__":
    main()
