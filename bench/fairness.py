#!/usr/bin/env python3
"""Fairness benchmark: another account's single-event POST while one account floods batches.

gunicorn on the embedded default (SQLite, jobs and clock in the web workers, default settings),
or on PostgreSQL with --postgres (its database gets a _fairness twin). Account B posts single
events one after another, first alone (quiet), then while account A posts 1,000-event batches
from several threads (a flooder pauses for Retry-After, at most a second, when refused) and
PATCHes its flow with template bombs from others (bench/templates.py's). Prints B's p50 and p99
in both phases and their ratios (target: p50 within 2x). Run from the repository with its .venv:

    .venv/bin/python bench/fairness.py [--seconds 15] [--threads 8] [--bomb-threads 2]
        [--event-rate-limit '60000 per minute'] [--event-batch-concurrency N]
        [--postgres postgresql://postgres@127.0.0.1:5432/intake]
"""

import argparse
import http.client
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scoreboard
from ingest import BIN, event, free_port, fresh_postgres_database, start_server, stop_server
from templates import BOMBS, with_body

ROOT = Path(__file__).resolve().parent.parent
BATCH = 1000
TARGET_RATIO = 2.0


class Client:
    """One keep-alive connection acting for one account."""

    def __init__(self, port: int, key: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def post(self, body: bytes, method: str = "POST", path: str = "/v1/events") -> tuple[int, float, str | None]:
        """POST /v1/events (or another request); the status, the seconds it took and any Retry-After."""
        status, took, retry_after, _ = self.send(body, method, path)
        return status, took, retry_after

    def send(self, body: bytes | None, method: str, path: str) -> tuple[int, float, str | None, bytes]:
        """A request; its status, the seconds it took, any Retry-After, and its body."""
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body, self.headers)
            response = self.connection.getresponse()
            answer = response.read()
        except (ConnectionError, http.client.HTTPException):
            # A request refused before its body was read closes the connection: open another, as clients do.
            self.connection.close()
            self.connection.request(method, path, body, self.headers)
            response = self.connection.getresponse()
            answer = response.read()
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
        return response.status, time.perf_counter() - started, response.getheader("Retry-After"), answer


def singles(port: int, key: str, seconds: float, counter, least: int = 5) -> list[float]:
    """Post single events back to back for `seconds` (and at least `least` of them); each one's latency."""
    client, latencies = Client(port, key), []
    stop_at = time.perf_counter() + seconds
    while time.perf_counter() < stop_at or len(latencies) < least:
        status, took, _ = client.post(json.dumps(event(next(counter))).encode())
        if status != 200:
            raise SystemExit(f"the quiet account was answered HTTP {status}")
        latencies.append(took)
    return latencies


def flood(port: int, key: str, stop: threading.Event, counter, tally: dict[str, int], lock: threading.Lock) -> None:
    """Post 1,000-event batches until `stop`, pausing (at most a second) when refused."""
    client = Client(port, key)
    while not stop.is_set():
        body = json.dumps({"events": [event(next(counter)) for _ in range(BATCH)]}).encode()
        status, _, retry_after = client.post(body)
        with lock:
            tally[str(status)] = tally.get(str(status), 0) + 1
        if status == 429:
            stop.wait(min(float(retry_after or 1), 1.0))
        elif status != 200:
            raise SystemExit(f"the flood was answered HTTP {status}")


def bomb(port: int, key: str, stop: threading.Event, flow: dict, number: int, tally: dict[str, int],
         lock: threading.Lock) -> None:
    """PATCH the flow with template bombs, one after another, until `stop`."""
    client, bodies = Client(port, key), list(BOMBS.values())
    path = f"/v1/flows/{flow['id']}"
    while not stop.is_set():
        body = json.dumps(with_body(flow, f"{bodies[number % len(bodies)]} {number}")).encode()
        status, _, retry_after = client.post(body, "PATCH", path)
        number += 1
        with lock:
            tally[f"bomb {status}"] = tally.get(f"bomb {status}", 0) + 1
        if status == 429:
            stop.wait(min(float(retry_after or 1), 1.0))
        elif status != 422:
            raise SystemExit(f"a template bomb was answered HTTP {status}")


def new_flow(port: int, key: str) -> dict:
    """The flooding account's copy of the sales flow, to PATCH bombs into."""
    status, _, _, answer = Client(port, key).send(json.dumps({"template": "sales"}).encode(), "POST", "/v1/flows")
    if status != 201:
        raise SystemExit(f"could not create a flow: HTTP {status}")
    return json.loads(answer)


def percentiles(latencies: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


def create_key(env: dict, folder: str, name: str) -> str:
    return subprocess.run([BIN / "flask", "accounts", "create", name, "--key-only"], cwd=folder, env=env,
                          check=True, capture_output=True, text=True).stdout.strip()


def run(seconds: float, threads: int, bomb_threads: int, event_rate_limit: str | None,
        event_batch_concurrency: int | None, database_url: str | None) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
        env.update(PYTHONPATH=str(ROOT), PORT=str(port), FLASK_APP="app:app", ACCESS_LOG="", LOG_LEVEL="WARNING",
                   # The quiet account's requests one after another pass the default 3,000 a minute on a fast
                   # machine; the budgets measured here are the flood's (events, batches in progress), not this one.
                   RATE_LIMIT="1000000 per minute")
        if event_rate_limit:
            env["EVENT_RATE_LIMIT"] = event_rate_limit
        if event_batch_concurrency:
            env["EVENT_BATCH_CONCURRENCY"] = str(event_batch_concurrency)
        if database_url:
            env.update(DATABASE_URL=database_url, SECRET_KEY="bench")
            subprocess.run([BIN / "flask", "db", "upgrade"], cwd=folder, env=env, check=True, capture_output=True)
        server = start_server(env, Path(folder), port)
        try:
            flooder, quiet = create_key(env, folder, "Flooder"), create_key(env, folder, "Quiet")
            flow = new_flow(port, flooder)
            quiet_counter, flood_counter = itertools.count(), itertools.count()
            singles(port, quiet, 1.0, quiet_counter)  # warm up both workers
            alone = singles(port, quiet, seconds, quiet_counter)
            stop, lock, tally = threading.Event(), threading.Lock(), {}
            workers = [threading.Thread(target=flood, args=(port, flooder, stop, flood_counter, tally, lock))
                       for _ in range(threads)]
            workers += [threading.Thread(target=bomb, args=(port, flooder, stop, flow, number, tally, lock))
                        for number in range(bomb_threads)]
            for worker in workers:
                worker.start()
            time.sleep(1.0)  # the flood under way
            crowded = singles(port, quiet, seconds, quiet_counter)
            stop.set()
            for worker in workers:
                worker.join()
        finally:
            stop_server(server)
    return {"quiet": percentiles(alone), "flood": percentiles(crowded), "flood_answers": tally,
            "flood_events": tally.get("200", 0) * BATCH}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0, help="time spent on each phase")
    parser.add_argument("--threads", type=int, default=8, help="threads flooding batches")
    parser.add_argument("--bomb-threads", type=int, default=2, help="threads of the same account PATCHing bombs")
    parser.add_argument("--postgres", default="", help="run on a twin of this PostgreSQL database (default: SQLite)")
    parser.add_argument("--event-rate-limit", default=None, help="EVENT_RATE_LIMIT for the server (default: its own)")
    parser.add_argument("--event-batch-concurrency", type=int, default=None,
                        help="EVENT_BATCH_CONCURRENCY for the server (default: its own)")
    args = parser.parse_args()
    database_url = fresh_postgres_database(args.postgres, "fairness") if args.postgres else None
    result = run(args.seconds, args.threads, args.bomb_threads, args.event_rate_limit, args.event_batch_concurrency,
                 database_url)
    (quiet_p50, quiet_p99), (flood_p50, flood_p99) = result["quiet"], result["flood"]
    print(f"backend: {'PostgreSQL' if database_url else 'SQLite (embedded default)'}")
    print(f"quiet account, alone:          p50 {quiet_p50:8.1f} ms  p99 {quiet_p99:8.1f} ms")
    print(f"quiet account, while flooded:  p50 {flood_p50:8.1f} ms  p99 {flood_p99:8.1f} ms")
    answers = ", ".join(f"{count} x {'PATCH' if status.startswith('bomb') else 'batch'} HTTP {status.split()[-1]}"
                        for status, count in sorted(result["flood_answers"].items()))
    print(f"flood ({args.threads} threads of {BATCH}-event batches, {args.bomb_threads} of template bombs): "
          f"{answers}; {result['flood_events']:,} events accepted")
    ratio = flood_p50 / quiet_p50
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"p50 flooded / alone: {ratio:.2f}x (target <= {TARGET_RATIO:.0f}x: {verdict}); "
          f"p99 flooded / alone: {flood_p99 / quiet_p99:.2f}x")
    backend = "postgresql" if database_url else "sqlite"
    flood = f"{args.threads} batch + {args.bomb_threads} bomb threads"
    scoreboard.record("fairness", "other account's single-event p50, flooded / alone", ratio, backend=backend,
                      size=flood, target=f"<= {TARGET_RATIO:.0f}x", met=ratio <= TARGET_RATIO)
    scoreboard.record("fairness", "other account's single-event p99, flooded / alone", flood_p99 / quiet_p99,
                      backend=backend, size=flood)


if __name__ == "__main__":
    main()
