#!/usr/bin/env python3
"""Ingest benchmark: gunicorn (2 workers) on the embedded default and on PostgreSQL.

For each backend it measures, in one run and interleaved: two baselines served by a bare Flask
app under the same gunicorn settings (bench/bare.py: a no-op, and one Core insert and commit a
request), our own no-op (`/livez`), single-event POSTs and batches of 500, with p50/p99 latency.
Events name contacts already stored; it measures with 10,000 and again with 100,000 contacts in
the account, and prints the ratios (single-event intake against each baseline, and at 100k
against 10k contacts). After each phase against our server it waits until the events that phase
left are processed, so the next phase is not measured behind that backlog. Run from the repository
with its .venv:

    .venv/bin/python bench/ingest.py [--seconds 9] [--rounds 3] [--contacts 10000,100000]
        [--postgres postgresql://postgres@127.0.0.1:5432/intake]   (its database gets a _bench twin)
        [--redis redis://127.0.0.1:6379/8]   (processing queued and never run: intake alone; the db is flushed)
"""

import argparse
import asyncio
import functools
import itertools
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from redis import Redis
from sqlalchemy import create_engine, func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import scoreboard  # bench/scoreboard.py, beside this script

from reengage.models import Account, Contact, Event

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BATCH = 500
TARGETS = {"single_vs_noop": 0.5, "single_vs_insert": 0.8, "flatness": 1.2,
           "batch_events_per_s": {"sqlite": 20_000, "postgresql": 10_000}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def event(n: int, contacts: int | None = None) -> dict:
    """Event `n`: of a contact among `contacts` stored ones (picked at random), else of a new one every 5 events."""
    person = random.randrange(contacts) if contacts else n // 5
    return {
        "id": f"bench-{n}",
        "type": "application_started" if n % 3 else "application_completed",
        "contact": {"external_id": f"user-{person}", "email": f"user-{person}@example.com", "first_name": "Dana"},
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


def start_server(env: dict, cwd: Path, port: int, wsgi: str = "app:app") -> subprocess.Popen:
    process = subprocess.Popen(
        [BIN / "gunicorn", "-c", ROOT / "gunicorn.conf.py", wsgi], cwd=cwd, env=env,
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


# Events each seeded contact already has (processed a month ago), as an account of that many contacts would.
HISTORY = 3


def seed_contacts(database_url: str, account_name: str, total: int) -> None:
    """Store contacts `user-0`... in the account until it has `total` (as intake would have stored them), each with
    HISTORY past events; then gather the database's statistics, as autovacuum keeps them on a database in use (on a
    new one, PostgreSQL would plan the first minute's lookups for an account it takes for empty)."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    contacts, events = Contact.__table__, Event.__table__
    month_ago = datetime.now(UTC) - timedelta(days=30)
    with engine.begin() as connection:
        account = connection.execute(select(Account.__table__.c.id).where(Account.__table__.c.name == account_name)
                                     ).scalar_one()
        have = connection.execute(select(func.count()).where(contacts.c.account_id == account)).scalar_one()
        for start in range(have, total, 10_000):
            ids = connection.execute(insert(contacts).returning(contacts.c.id, sort_by_parameter_order=True), [
                {"account_id": account, "external_id": f"user-{n}", "email": f"user-{n}@example.com",
                 "first_name": "Dana", "properties": {}, "consent": {}, "engagement": 0}
                for n in range(start, min(total, start + 10_000))]).scalars().all()
            connection.execute(insert(events), [
                {"account_id": account, "key": f"seed-{contact_id}-{n}", "type": "page_viewed",
                 "contact_id": contact_id, "occurred_at": month_ago + timedelta(minutes=n),
                 "received_at": month_ago + timedelta(minutes=n), "processed_at": month_ago + timedelta(minutes=n),
                 "properties": {}}
                for contact_id in ids for n in range(HISTORY)])
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        else:
            connection.execute(text("ANALYZE"))
            connection.commit()
    engine.dispose()


def drain(database_url: str, deadline: float = 300.0) -> dict:
    """Wait until the server has processed every event it took in (a load leaves a backlog behind it), so the next
    phase is measured without it (single events behind a batch backlog measure the backlog, and on SQLite seeding
    the next size would wait for its lock); how many events were waiting, and the seconds they took."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    events = Event.__table__
    started = time.monotonic()
    first = None
    try:
        while True:
            with engine.connect() as connection:
                waiting = connection.execute(select(func.count()).where(events.c.processed_at.is_(None))).scalar_one()
            first = waiting if first is None else first
            if not waiting:
                return {"events": first, "seconds": time.monotonic() - started}
            if time.monotonic() > started + deadline:
                raise SystemExit(f"{waiting:,} events still unprocessed after {deadline:.0f} s")
            time.sleep(0.05)
    finally:
        engine.dispose()


def environment(port: int, database_url: str | None, redis_url: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    if redis_url:  # jobs go to Redis, where no worker takes them: intake is measured without processing
        env["REDIS_URL"] = redis_url
    env.update(PYTHONPATH=f"{ROOT}:{ROOT / 'bench'}", PORT=str(port), FLASK_APP="app:app", ACCESS_LOG="",
               LOG_LEVEL="WARNING", WEB_CONCURRENCY="2", RATE_LIMIT="10000000 per minute",
               EVENT_RATE_LIMIT="100000000 per minute", EVENT_BATCH_CONCURRENCY="8")
    if database_url:
        env.update(DATABASE_URL=database_url, SECRET_KEY="bench")
    return env


def bench_backend(name: str, database_url: str | None, seconds: float, rounds: int, sizes: list[int],
                  redis_url: str | None = None) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        port, bare_port = free_port(), free_port()
        env = environment(port, database_url, redis_url)
        if database_url:
            subprocess.run([BIN / "flask", "db", "upgrade"], cwd=folder, env=env, check=True, capture_output=True)
        bare_env = {**environment(bare_port, None),
                    "BARE_DATABASE_URL": database_url or f"sqlite:///{Path(folder) / 'bare.db'}"}
        server = start_server(env, Path(folder), port)
        bare = start_server(bare_env, Path(folder), bare_port, "bare:app")
        results = {}
        try:
            key = subprocess.run([BIN / "flask", "accounts", "create", "Bench", "--key-only"], cwd=folder, env=env,
                                 check=True, capture_output=True, text=True).stdout.strip()
            load, bare_load = Load(port, {"Authorization": f"Bearer {key}"}), Load(bare_port, {})
            counter = itertools.count()
            url = database_url or f"sqlite:///{Path(folder) / 'reengage.db'}"
            for size in sizes:
                seed_contacts(url, "Bench", size)
                # With Redis no worker takes the events: nothing is processed, and nothing is waited for.
                results[size] = measure(load, bare_load, counter, size, seconds, rounds,
                                        None if redis_url else functools.partial(drain, url))
        finally:
            stop_server(server)
            stop_server(bare)
            if redis_url:
                Redis.from_url(redis_url).flushdb()
    return {"backend": name, "sizes": results}


def measure(load: "Load", bare: "Load", counter, contacts: int, seconds: float, rounds: int,
            settle: Callable[[], dict] | None) -> dict:
    """Every phase, interleaved over `rounds`: the median rate and latency percentiles of each. After each phase
    of our server, `settle` (when given) waits for the events it left unprocessed; what it waited for is summed."""

    def single() -> bytes:
        return load.request("POST", "/v1/events", json.dumps(event(next(counter), contacts)).encode())

    def batch() -> bytes:
        return load.request("POST", "/v1/events", json.dumps(
            {"events": [event(next(counter), contacts) for _ in range(BATCH)]}).encode())

    def bare_insert() -> bytes:
        return bare.request("POST", "/insert", json.dumps(event(next(counter), contacts)).encode())

    # Bodies are built before the clock starts, so the client's work is not measured.
    span = seconds / rounds
    phases = {
        "bare_noop": (bare, lambda: bare.request("GET", "/noop"), 8),
        "bare_insert": (bare, prebuilt(bare_insert, int(4000 * span * rounds)), 8),
        "noop": (load, lambda: load.request("GET", "/livez"), 8),
        "single": (load, prebuilt(single, int(4000 * span * rounds)), 8),
        "batch": (load, prebuilt(batch, int(40 * span * rounds)), 4),
    }
    # Interleaved rounds: a noisy moment on the machine hits every phase alike.
    rates: dict[str, list[float]] = {phase: [] for phase in phases}
    latencies: dict[str, list[float]] = {phase: [] for phase in phases}
    left = {"events": 0, "seconds": 0.0}
    for _ in range(rounds):
        for phase, (target, make, connections) in phases.items():
            rates[phase].append(target.run(make, span, connections, latencies[phase]))
            if settle is not None and target is load:
                for key, value in settle().items():
                    left[key] += value
    out: dict = {phase: summary(rates[phase], latencies[phase]) for phase in phases}
    if settle is not None:
        out["drain"] = left
    out["batch"]["events_per_s"] = out["batch"]["requests_per_s"] * BATCH
    return out


def fresh_postgres_database(url: str, suffix: str = "bench") -> str:
    """A new, empty twin of `url`'s database (its name + `_` + `suffix`), so the benchmark never touches test data."""
    base, name = url.rsplit("/", 1)
    bench = f"{name}_{suffix}"
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {bench} WITH (FORCE)"))  # a run before may hold a pool
        connection.execute(text(f"CREATE DATABASE {bench}"))
    engine.dispose()
    return f"{base}/{bench}"


def report(result: dict) -> None:
    backend = result["backend"]
    sizes = sorted(result["sizes"])
    for size in sizes:
        row = result["sizes"][size]
        print(f"\n== {backend}, {size:,} contacts")
        for label in ("bare_noop", "bare_insert", "noop", "single", "batch"):
            extra = f"  ({row[label]['events_per_s']:,.0f} events/s)" if label == "batch" else ""
            print(f"{label:>11}: {row[label]['requests_per_s']:8,.0f} req/s  p50 {row[label]['p50_ms']:7.1f} ms  "
                  f"p99 {row[label]['p99_ms']:7.1f} ms{extra}")
        single = row["single"]["requests_per_s"]
        target = TARGETS["batch_events_per_s"][backend]
        print(f"single / bare no-op: {single / row['bare_noop']['requests_per_s']:.2f}x "
              f"(target >= {TARGETS['single_vs_noop']} on SQLite); "
              f"single / bare insert+commit: {single / row['bare_insert']['requests_per_s']:.2f}x "
              f"(target >= {TARGETS['single_vs_insert']} on PostgreSQL); "
              f"single / /livez: {single / row['noop']['requests_per_s']:.2f}x")
        print(f"batch events/s vs target {target:,}: {row['batch']['events_per_s'] / target:.2f}x")
        at = f"{size:,} contacts"
        if "drain" in row:
            left = row["drain"]
            rate = left["events"] / left["seconds"] if left["events"] else 0.0
            print(f"left to process after each phase (summed): {left['events']:,} events, processed in "
                  f"{left['seconds']:.1f} s ({rate:,.0f} events/s)")
            if left["events"]:
                scoreboard.record("intake", "backlog left by the load, processed events/s", rate, backend=backend,
                                  size=at, target="", met=None)
        vs_noop, vs_insert = single / row["bare_noop"]["requests_per_s"], single / row["bare_insert"]["requests_per_s"]
        if backend == "sqlite":
            scoreboard.record("intake", "single event / bare no-op", vs_noop, backend=backend, size=at,
                              target=f">= {TARGETS['single_vs_noop']}x", met=vs_noop >= TARGETS["single_vs_noop"])
        else:
            scoreboard.record("intake", "single event / bare insert+commit", vs_insert, backend=backend, size=at,
                              target=f">= {TARGETS['single_vs_insert']}x", met=vs_insert >= TARGETS["single_vs_insert"])
        scoreboard.record("intake", "batch of 500, events/s", row["batch"]["events_per_s"], backend=backend, size=at,
                          target=f">= {target:,}/s", met=row["batch"]["events_per_s"] >= target)
    if len(sizes) > 1:
        small, large = result["sizes"][sizes[0]], result["sizes"][sizes[-1]]
        cost = (small["single"]["requests_per_s"] / large["single"]["requests_per_s"])
        p50 = large["single"]["p50_ms"] / small["single"]["p50_ms"]
        print(f"flatness, {sizes[-1]:,} against {sizes[0]:,} contacts: single-event cost {cost:.2f}x "
              f"(1/rate), p50 {p50:.2f}x (target <= {TARGETS['flatness']})")
        scoreboard.record("intake", "single-event cost, large / small", cost, backend=backend,
                          size=f"{sizes[-1]:,} vs {sizes[0]:,}", target=f"<= {TARGETS['flatness']}x",
                          met=cost <= TARGETS["flatness"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=9.0, help="time spent on each measurement, in all")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds the time is split into")
    parser.add_argument("--contacts", default="10000,100000", help="contacts stored in the account, in turn")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL URL whose database gets a _bench twin to measure in; '' to skip")
    parser.add_argument("--skip-sqlite", action="store_true", help="measure PostgreSQL only")
    parser.add_argument("--redis", default=None,
                        help="a Redis URL (its database is FLUSHED after) to queue processing in, unprocessed: "
                             "intake alone is measured")
    args = parser.parse_args()
    sizes = [int(size) for size in args.contacts.split(",")]
    if not args.skip_sqlite:
        report(bench_backend("sqlite", None, args.seconds, args.rounds, sizes, args.redis))
    if args.postgres:
        report(bench_backend("postgresql", fresh_postgres_database(args.postgres), args.seconds, args.rounds, sizes,
                             args.redis))


if __name__ == "__main__":
    main()
