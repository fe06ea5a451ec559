#!/usr/bin/env python3
"""Template bomb benchmark: how fast a bomb is refused, and whether it slows another account.

In one run it measures, in process, how long each bomb of issue 19 takes to be refused against
rendering a normal step (the baseline); then, through a real gunicorn (2 workers, 4 threads, the
embedded SQLite), a PATCH /v1/flows/{id} with each bomb against one with a normal step, and
another account's GET /v1/me latency while eight connections of one account post bombs, and
while they post normal changes, against its latency when the server is quiet. Everything is
printed as ratios. Run from the repository:

    .venv/bin/python bench/templates.py [--seconds 6]
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import free_port, start_server  # noqa: E402

from reengage.platform import rendering  # noqa: E402
from reengage.samples import TEMPLATE_CONTEXTS  # noqa: E402

NORMAL = "Hi {{ contact.first_name or 'there' }}, your application is saved: {{ deep_link }}"
BOMBS = {
    "nested loops": "{% for i in range(100000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
    "'x' * 10**8": "{{ 'x' * 10**8 }}",
    "'%99999999d'": "{{ '%99999999d' % 1 }}",
    "lipsum(100000)": "{{ lipsum(100000) }}",
    "9 ** 99999999": "{{ 9 ** 99999999 }}",
    "exponential macro": "{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}{{ m(60) }}",
    "5,000-digit literal": "{{ " + "9" * 5000 + " }}",
}
SIGN_UP = 8  # connections of the busy account


def timed(function, repeat: int) -> float:
    """The median seconds of `repeat` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def in_process() -> None:
    """Each bomb's refusal against a normal step's check (the same save-time check, uncached)."""
    normal = timed(lambda: rendering.problem(NORMAL, TEMPLATE_CONTEXTS), 200)
    print(f"in process: a normal step is checked in {normal * 1e3:.3f} ms (the baseline)")
    for name, bomb in BOMBS.items():
        refused = timed(lambda bomb=bomb: rendering.problem(bomb + " ", TEMPLATE_CONTEXTS), 5)
        assert rendering.problem(bomb, TEMPLATE_CONTEXTS)
        print(f"  {name:22} refused in {refused / normal:8.1f}x the baseline")


class Client:
    """One keep-alive connection to the server, as one account."""

    def __init__(self, port: int, key: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def send(self, method: str, path: str, body: object = None) -> tuple[int, float, dict]:
        started = time.perf_counter()
        self.connection.request(method, path, json.dumps(body) if body is not None else None, self.headers)
        response = self.connection.getresponse()
        answer = json.loads(response.read() or b"{}")
        return response.status, time.perf_counter() - started, answer


def with_body(flow: dict, body: str) -> dict:
    phases = [dict(phase, steps=[dict(step) for step in phase["steps"]]) for phase in flow["phases"]]
    phases[0]["steps"][1]["body"] = body
    return {"phases": phases}


def latencies(client: Client, seconds: float) -> list[float]:
    """GET /v1/me back to back for `seconds`."""
    found, stop_at = [], time.perf_counter() + seconds
    while time.perf_counter() < stop_at:
        status, took, _ = client.send("GET", "/v1/me")
        assert status == 200
        found.append(took)
    return found


def over_http(seconds: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
        env.update(PYTHONPATH=str(ROOT), PORT=str(port), FLASK_APP="app:app", ACCESS_LOG="", LOG_LEVEL="WARNING",
                   WEB_CONCURRENCY="2", RATE_LIMIT="10000000 per minute")
        server = start_server(env, Path(folder), port)
        try:
            keys = [subprocess.run([BIN / "flask", "accounts", "create", name, "--key-only"], cwd=folder, env=env,
                                   check=True, capture_output=True, text=True).stdout.strip()
                    for name in ("Bomber", "Neighbour")]
            bomber, neighbour = Client(port, keys[0]), Client(port, keys[1])
            status, _, flow = bomber.send("POST", "/v1/flows", {"template": "sales"})
            assert status == 201, flow
            path = f"/v1/flows/{flow['id']}"
            normal = statistics.median(bomber.send("PATCH", path, with_body(flow, f"{NORMAL} {n}"))[1]
                                       for n in range(30))
            print(f"over HTTP: PATCH {path} with a normal step takes {normal * 1e3:.1f} ms (the baseline)")
            for name, bomb in BOMBS.items():
                status, took, answer = bomber.send("PATCH", path, with_body(flow, f"{bomb} "))
                field = answer["error"]["details"]["fields"][0]["field"]
                print(f"  {name:22} answered {status} ({field}) in {took / normal:6.1f}x the baseline")

            quiet = latencies(neighbour, seconds)
            flooded, flood = under_load(port, keys[0], path, [f"{NORMAL} {{n}}"], neighbour, seconds)
            bombed, bombs = under_load(port, keys[0], path, [f"{bomb} {{n}}" for bomb in BOMBS.values()],
                                       neighbour, seconds)
        finally:
            server.terminate()
            server.wait(timeout=45)
    assert set(flood) == {200} and set(bombs) == {422}, (set(flood), set(bombs))
    q50, q99 = percentiles(quiet)
    print(f"another account's GET /v1/me: quiet p50 {q50 * 1e3:.1f} ms, p99 {q99 * 1e3:.1f} ms (the baseline)")
    for what, found, answers in (("normal PATCHes", flooded, flood), ("bomb PATCHes", bombed, bombs)):
        p50, p99 = percentiles(found)
        print(f"  while {SIGN_UP} connections of one account sent {len(answers)} {what}: "
              f"p50 {p50 / q50:.2f}x, p99 {p99 / q99:.2f}x the baseline")


def percentiles(values: list[float]) -> tuple[float, float]:
    """p50 and p99 of `values`."""
    cuts = statistics.quantiles(values, n=100)
    return cuts[49], cuts[98]


def under_load(port: int, key: str, path: str, bodies: list[str], neighbour: Client,
               seconds: float) -> tuple[list[float], list[int]]:
    """The neighbour's latencies while SIGN_UP connections PATCH the flow with `bodies` in turn; their statuses."""
    stop, answers = threading.Event(), []
    status, _, flow = Client(port, key).send("GET", path)
    assert status == 200

    def send(number: int) -> None:
        client = Client(port, key)
        while not stop.is_set():
            body = bodies[number % len(bodies)].replace("{n}", str(number))
            answers.append(client.send("PATCH", path, with_body(flow, body))[0])
            number += SIGN_UP

    threads = [threading.Thread(target=send, args=(n,)) for n in range(SIGN_UP)]
    for thread in threads:
        thread.start()
    found = latencies(neighbour, seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return found, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="how long each latency phase lasts")
    args = parser.parse_args()
    in_process()
    over_http(args.seconds)


if __name__ == "__main__":
    main()
