#!/usr/bin/env python3
"""Polling and REST hook benchmark.

1. With N dropoffs (default 1,000,000) across 100 accounts, GET /v1/triggers/dropoff.detected?limit=100
   against the no-op baseline (GET /v1/me: authentication only) in the same run: p50/p99 and requests/s,
   and the p99 ratio (target: at most 2x the baseline's).
2. REST hook latency: a rule that waits 2 s, a hook on dropoff.detected aimed at a local receiver; the
   time from each deadline to the delivery's arrival (target: median at most 2 s).

    .venv/bin/python bench/poll.py [--dropoffs 1000000] [--requests 2000] [--postgres postgresql://...]
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

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT))
ACCOUNTS, CONTACTS_PER_ACCOUNT, CHUNK = 100, 1000, 20_000


def load(database_url: str | None, folder: Path, dropoffs: int) -> list[str]:
    """Create the accounts (answering their keys), contacts and dropoffs straight into the database."""
    os.chdir(folder)
    from sqlalchemy import insert

    from app import create_app
    from reengage import accounts
    from reengage.models import Contact, Dropoff
    from reengage.platform import db

    overrides = {"DATABASE_URL": database_url, "SECRET_KEY": "bench"} if database_url else {}
    app = create_app({**overrides, "CLOCK_IN_PROCESS": False})
    keys = []
    with app.app_context():
        if database_url:
            db.upgrade(app.config["DATABASE_URL"])
        for number in range(ACCOUNTS):
            with db.transaction() as session:
                account, key = accounts.create(session, f"Bench {number}")
                keys.append((account.id, key))
        now, contact_ids = datetime.now(UTC), {}
        with db.transaction() as session:
            for account_id, _ in keys:
                rows = [{"account_id": account_id, "external_id": f"c{n}", "email": f"c{n}@a{account_id}.example",
                         "properties": {}, "consent": {}, "created_at": now, "updated_at": now}
                        for n in range(CONTACTS_PER_ACCOUNT)]
                contact_ids[account_id] = list(session.scalars(insert(Contact).returning(Contact.id), rows))
        made = 0
        while made < dropoffs:
            rows = []
            for n in range(made, min(made + CHUNK, dropoffs)):
                account_id = keys[n % ACCOUNTS][0]
                at = now - timedelta(seconds=dropoffs - n)
                rows.append({"account_id": account_id, "rule_key": "bench", "rule_id": None,
                             "contact_id": contact_ids[account_id][n // ACCOUNTS % CONTACTS_PER_ACCOUNT],
                             "match_value": str(n), "scenario": "sales.application_abandoned", "stage": "sales",
                             "kind": "inactivity", "category": "inactive", "intent": "high", "started_at": at,
                             "occurred_at": at, "detected_at": at, "status": "dismissed", "segment": {},
                             "ready_at": at})
            with db.transaction() as session:
                session.execute(insert(Dropoff), rows)
            made += len(rows)
    return [key for _, key in keys]


def start(folder: Path, port: int, database_url: str | None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    env.update(PYTHONPATH=str(ROOT), PORT=str(port), WEB_CONCURRENCY="2", LOG_LEVEL="WARNING", ACCESS_LOG="",
               RATE_LIMIT="100000000 per minute", CLOCK_INTERVAL_SECONDS="0.25",
               HOOK_ALLOWED_NETWORKS="127.0.0.0/8", HOOK_REQUIRE_HTTPS="false")
    if database_url:
        env.update(DATABASE_URL=database_url, SECRET_KEY="bench")
    server = subprocess.Popen([BIN / "gunicorn", "-c", ROOT / "gunicorn.conf.py", "app:app"], cwd=folder, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
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


def figures(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


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
    parser.add_argument("--dropoffs", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--hooks", type=int, default=40)
    parser.add_argument("--postgres", help="a PostgreSQL URL to run on instead of the embedded SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder, port = Path(name), 8700 + os.getpid() % 200
        began = time.perf_counter()
        keys = load(args.postgres, folder, args.dropoffs)
        print(f"loaded {args.dropoffs:,} dropoffs across {ACCOUNTS} accounts in {time.perf_counter() - began:.0f} s "
              f"({'PostgreSQL' if args.postgres else 'SQLite'})")
        server = start(folder, port, args.postgres)
        try:
            hammer(port, [("/v1/me", key) for key in keys], 200)  # warm both workers
            base, base_rate = hammer(port, [("/v1/me", key) for key in keys], args.requests)
            poll, poll_rate = hammer(port, [("/v1/triggers/dropoff.detected?limit=100", key) for key in keys],
                                     args.requests)
            (b50, b99), (p50, p99) = figures(base), figures(poll)
            print(f"baseline GET /v1/me:         p50 {b50:6.2f} ms  p99 {b99:6.2f} ms  {base_rate:7.0f} req/s")
            print(f"poll dropoff.detected (100): p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  {poll_rate:7.0f} req/s")
            print(f"ratio poll/baseline: p50 {p50 / b50:.2f}x  p99 {p99 / b99:.2f}x (target p99 <= 2x)  "
                  f"throughput {poll_rate / base_rate:.2f}x")
            delays = hook_latency(port, keys[0], args.hooks)
            if delays:
                print(f"hook delivery after the deadline: {len(delays)}/{args.hooks} arrived, median "
                      f"{statistics.median(delays):.2f} s, max {max(delays):.2f} s (target median <= 2 s)")
            else:
                print("hook delivery: nothing arrived within 30 s")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
