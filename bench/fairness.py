#!/usr/bin/env python3
"""Fairness benchmark: another account's single-event POST while one account floods batches.

gunicorn on the embedded default (SQLite, jobs and clock in the web workers, default settings).
Account B posts single events one after another, first alone (quiet), then while account A
posts 1,000-event batches from several threads (a flooder pauses for Retry-After, at most a
second, when refused). Prints B's p50 and p99 in both phases and the ratio of the p50s
(target: within 2x). Run from the repository with its .venv:

    .venv/bin/python bench/fairness.py [--seconds 15] [--threads 8] [--event-rate-limit '60000 per minute']
        [--event-batch-concurrency N]
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

from ingest import BIN, event, free_port, start_server, stop_server

ROOT = Path(__file__).resolve().parent.parent
BATCH = 1000
TARGET_RATIO = 2.0


class Client:
    """One keep-alive connection acting for one account."""

    def __init__(self, port: int, key: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def post(self, body: bytes) -> tuple[int, float, str | None]:
        """POST /v1/events; the status, the seconds it took and any Retry-After."""
        started = time.perf_counter()
        try:
            self.connection.request("POST", "/v1/events", body, self.headers)
            response = self.connection.getresponse()
            response.read()
        except (ConnectionError, http.client.HTTPException):
            # A request refused before its body was read closes the connection: open another, as clients do.
            self.connection.close()
            self.connection.request("POST", "/v1/events", body, self.headers)
            response = self.connection.getresponse()
            response.read()
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
        return response.status, time.perf_counter() - started, response.getheader("Retry-After")


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


def percentiles(latencies: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


def create_key(env: dict, folder: str, name: str) -> str:
    return subprocess.run([BIN / "flask", "accounts", "create", name, "--key-only"], cwd=folder, env=env,
                          check=True, capture_output=True, text=True).stdout.strip()


def run(seconds: float, threads: int, event_rate_limit: str | None, event_batch_concurrency: int | None) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
        env.update(PYTHONPATH=str(ROOT), PORT=str(port), FLASK_APP="app:app", ACCESS_LOG="", LOG_LEVEL="WARNING")
        if event_rate_limit:
            env["EVENT_RATE_LIMIT"] = event_rate_limit
        if event_batch_concurrency:
            env["EVENT_BATCH_CONCURRENCY"] = str(event_batch_concurrency)
        server = start_server(env, Path(folder), port)
        try:
            flooder, quiet = create_key(env, folder, "Flooder"), create_key(env, folder, "Quiet")
            quiet_counter, flood_counter = itertools.count(), itertools.count()
            singles(port, quiet, 1.0, quiet_counter)  # warm up both workers
            alone = singles(port, quiet, seconds, quiet_counter)
            stop, lock, tally = threading.Event(), threading.Lock(), {}
            workers = [threading.Thread(target=flood, args=(port, flooder, stop, flood_counter, tally, lock))
                       for _ in range(threads)]
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
    parser.add_argument("--event-rate-limit", default=None, help="EVENT_RATE_LIMIT for the server (default: its own)")
    parser.add_argument("--event-batch-concurrency", type=int, default=None,
                        help="EVENT_BATCH_CONCURRENCY for the server (default: its own)")
    args = parser.parse_args()
    result = run(args.seconds, args.threads, args.event_rate_limit, args.event_batch_concurrency)
    (quiet_p50, quiet_p99), (flood_p50, flood_p99) = result["quiet"], result["flood"]
    print(f"quiet account, alone:          p50 {quiet_p50:8.1f} ms  p99 {quiet_p99:8.1f} ms")
    print(f"quiet account, while flooded:  p50 {flood_p50:8.1f} ms  p99 {flood_p99:8.1f} ms")
    answers = ", ".join(f"{count} x HTTP {status}" for status, count in sorted(result["flood_answers"].items()))
    print(f"flood ({args.threads} threads of {BATCH}-event batches): {answers}; "
          f"{result['flood_events']:,} events accepted")
    ratio = flood_p50 / quiet_p50
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"p50 flooded / alone: {ratio:.2f}x (target <= {TARGET_RATIO:.0f}x: {verdict})")


if __name__ == "__main__":
    main()
