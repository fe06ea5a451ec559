#!/usr/bin/env python3
"""Ingest benchmark: gunicorn (2 workers) on the embedded default and on PostgreSQL.

For each backend it measures, in one run: a no-op endpoint's requests/s (the baseline),
single-event POSTs/s and batch ingestion events/s (500 a batch), with p50/p99 latency, and
prints the ratios. Run from the repository with its .venv:

    .venv/bin/python bench/ingest.py [--seconds 9] [--rounds 3] [--postgres postgresql://postgres@127.0.0.1/postgres]
"""

import argparse
import asyncio
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BATCH = 500
TARGETS = {"single_vs_noop": 0.5, "batch_events_per_s": {"sqlite": 20_000, "postgresql": 10_000}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def event(n: int) -> dict:
    return {
        "id": f"bench-{n}",
        "type": "application_started" if n % 3 else "application_completed",
        "contact": {"external_id": f"user-{n // 5}", "email": f"user-{n // 5}@example.com", "first_name": "Dana"},
        "properties": {"application_id": f"app-{n // 5}", "step": n % 4, "plan": "growth"},
        "value": 249.0,
        "currency": "USD",
        "source": "bench",
    }


class Load:
    """HTTP/1.1 connections sending requests back to back for a while.

    Each connection is reopened every RECONNECT_EVERY requests, as real clients' pools do;
    otherwise whichever gunicorn worker wakes first keeps every connection opened at once.
    """

    RECONNECT_EVERY = 20

    def __init__(self, port: int, headers: dict[str, str]):
        self.port = port
        self.headers = "".join(f"{k}: {v}\r\n" for k, v in headers.items())

    def request(self, method: str, path: str, body: bytes = b"") -> bytes:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{self.headers}"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        return (head + "\r\n").encode() + body

    async def _connection(self, make, stop_at: float, latencies: list[float], failures: list[int]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        sent = 0
        while time.perf_counter() < stop_at:
            if sent and sent % self.RECONNECT_EVERY == 0:
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            sent += 1
            payload = make()
            started = time.perf_counter()
            writer.write(payload)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            status = int(status_line.split()[1])
            if status >= 300:
                failures.append(status)
        writer.close()

    def run(self, make, seconds: float, connections: int, latencies: list[float] | None = None) -> float:
        """Send for `seconds`; return requests/s and add each request's latency to `latencies`."""
        latencies = [] if latencies is None else latencies
        failures: list[int] = []
        before = len(latencies)

        async def main() -> None:
            stop_at = time.perf_counter() + seconds
            await asyncio.gather(*(self._connection(make, stop_at, latencies, failures) for _ in range(connections)))

        started = time.perf_counter()
        asyncio.run(main())
        elapsed = time.perf_counter() - started
        if failures:
            raise SystemExit(f"{len(failures)} requests failed, e.g. HTTP {failures[0]}")
        return (len(latencies) - before) / elapsed


def summary(rates: list[float], latencies: list[float]) -> dict:
    """The median rate over the rounds, and latency percentiles over every request."""
    cuts = statistics.quantiles(latencies, n=100)
    return {"requests_per_s": statistics.median(rates), "p50_ms": cuts[49] * 1000, "p99_ms": cuts[98] * 1000}


def prebuilt(make, count: int):
    """`make` as a function whose first `count` answers were computed ahead of time."""
    ready = iter([make() for _ in range(count)])
    return lambda: next(ready, None) or make()


def stop_server(server: subprocess.Popen) -> None:
    """Stop gunicorn; its workers finish their in-process job backlog first (its 30 s graceful timeout)."""
    server.terminate()
    try:
        server.wait(timeout=45)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def start_server(env: dict, cwd: Path, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [BIN / "gunicorn", "-c", ROOT / "gunicorn.conf.py", "app:app"], cwd=cwd, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                time.sleep(1.0)  # let both workers finish booting
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("server did not start")


def bench_backend(name: str, database_url: str | None, seconds: float, rounds: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
        env.update(PYTHONPATH=str(ROOT), PORT=str(port), FLASK_APP="app:app", ACCESS_LOG="", LOG_LEVEL="WARNING",
                   WEB_CONCURRENCY="2", RATE_LIMIT="10000000 per minute")
        if database_url:
            env.update(DATABASE_URL=database_url, SECRET_KEY="bench")
            subprocess.run([BIN / "flask", "db", "upgrade"], cwd=folder, env=env, check=True, capture_output=True)
        server = start_server(env, Path(folder), port)
        try:
            key = subprocess.run([BIN / "flask", "accounts", "create", "Bench", "--key-only"], cwd=folder, env=env,
                                 check=True, capture_output=True, text=True).stdout.strip()
            load = Load(port, {"Authorization": f"Bearer {key}"})
            counter = itertools.count()
            noop_request = load.request("GET", "/livez")

            def single() -> bytes:
                return load.request("POST", "/v1/events", json.dumps(event(next(counter))).encode())

            def batch() -> bytes:
                return load.request(
                    "POST", "/v1/events", json.dumps({"events": [event(next(counter)) for _ in range(BATCH)]}).encode()
                )

            # Bodies are built before the clock starts, so the client's work is not measured.
            span = seconds / rounds
            phases = {
                "noop": (lambda: noop_request, 8),
                "single": (prebuilt(single, int(4000 * span * rounds)), 8),
                "batch": (prebuilt(batch, int(40 * span * rounds)), 4),
            }
            # Interleaved rounds: a noisy moment on the machine hits every phase alike.
            rates: dict[str, list[float]] = {phase: [] for phase in phases}
            latencies: dict[str, list[float]] = {phase: [] for phase in phases}
            for _ in range(rounds):
                for phase, (make, connections) in phases.items():
                    rates[phase].append(load.run(make, seconds / rounds, connections, latencies[phase]))
        finally:
            stop_server(server)
    noop, single, batch = (summary(rates[phase], latencies[phase]) for phase in phases)
    batch["events_per_s"] = batch["requests_per_s"] * BATCH
    return {"backend": name, "noop": noop, "single": single, "batch": batch,
            "single_vs_noop": single["requests_per_s"] / noop["requests_per_s"]}


def fresh_postgres_database(admin_url: str) -> str:
    """A new, empty database beside `admin_url`'s, so the benchmark never touches test data."""
    engine = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS reengage_bench"))
        connection.execute(text("CREATE DATABASE reengage_bench"))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/reengage_bench"


def report(result: dict) -> None:
    print(f"\n== {result['backend']}")
    for label in ("noop", "single", "batch"):
        row = result[label]
        extra = f"  ({row['events_per_s']:,.0f} events/s)" if label == "batch" else ""
        print(f"{label:>7}: {row['requests_per_s']:8,.0f} req/s  p50 {row['p50_ms']:7.1f} ms  "
              f"p99 {row['p99_ms']:7.1f} ms{extra}")
    target = TARGETS["batch_events_per_s"][result["backend"]]
    print(f"single/no-op ratio: {result['single_vs_noop']:.2f} (target >= {TARGETS['single_vs_noop']})")
    print(f"batch events/s vs target {target:,}: {result['batch']['events_per_s'] / target:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=9.0, help="time spent on each measurement, in all")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds the time is split into")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL URL to create the benchmark database beside; '' to skip")
    args = parser.parse_args()
    results = [bench_backend("sqlite", None, args.seconds, args.rounds)]
    if args.postgres:
        results.append(bench_backend("postgresql", fresh_postgres_database(args.postgres), args.seconds, args.rounds))
    for result in results:
        report(result)


if __name__ == "__main__":
    main()
