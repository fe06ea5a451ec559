#!/usr/bin/env python3
"""Console page cost: each console page against the cheapest request, in one run, in process.

A fresh SQLite account gets the sales flow and one contact run through "try it now" (so its timeline
has a dropoff, an enrollment and six messages); then each page is requested N times through the app's
test client and its median time printed as a ratio to `GET /livez` (the no-op baseline), with the
assets' gzipped size against their size. Run from the repository:

    .venv/bin/python bench/console.py [--repeat 30]
"""

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from reengage import accounts  # noqa: E402
from reengage.jobs import clock  # noqa: E402
from reengage.platform import db  # noqa: E402


def median_ms(client, method: str, path: str, repeat: int, **kwargs) -> float:
    """The median time of `repeat` requests, in milliseconds (each must succeed)."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        answer = client.open(path, method=method, **kwargs)
        times.append(time.perf_counter() - began)
        assert answer.status_code < 400, (path, answer.status_code)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    repeat = parser.parse_args().repeat
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'bench.db'}"
    db.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "REDIS_URL": None, "JOBS_INLINE": True,
                      "CLOCK_IN_PROCESS": False, "RATE_LIMIT": "1000000 per minute"})
    with app.app_context(), db.transaction() as session:
        _, key = accounts.create(session, "Bench")
    client = app.test_client()
    page = client.get("/dashboard/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/dashboard/sign-in", data={"api_key": key, "csrf_token": token})
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console").get_data(as_text=True)).group(1)
    flow = client.post("/console/flows", data={"template": "sales", "csrf_token": token}).headers["Location"]
    contact = client.post("/console/try", data={"csrf_token": token, "rule": "application_abandoned",
                                                "email": "bench@example.com"}).headers["Location"].split("?")[0]
    with app.app_context():
        clock.tick(app, at=db.utcnow() + timedelta(seconds=1))
    preview = {"csrf_token": token, "channel": "email", "day": "0", "time": "02:00", "body": "Hello",
               "subject": "Hi {{ contact.first_name }}", "cta_label": "Go", "cta_url": "{{ deep_link }}",
               "contact_email": "", "action": "preview"}
    baseline = median_ms(client, "GET", "/livez", repeat)
    print(f"baseline GET /livez: {baseline:.2f} ms (median of {repeat})")
    for label, method, path, kwargs in (
            ("getting started", "GET", "/console", {}), ("flows", "GET", "/console/flows", {}),
            ("a flow", "GET", flow, {}), ("a step", "GET", f"{flow}/steps/1/pick-up", {}),
            ("a step's live preview", "POST", f"{flow}/steps/1/pick-up", {"data": preview,
                                                                          "headers": {"X-Preview": "1"}}),
            ("a contact's timeline", "GET", contact, {}), ("rules", "GET", "/console/rules", {}),
            ("settings", "GET", "/console/settings", {}), ("outbox", "GET", "/console/outbox", {})):
        took = median_ms(client, method, path, repeat, **kwargs)
        print(f"{label:24} {took:7.2f} ms  {took / baseline:6.1f}x baseline")
    for name in ("console.css", "console.js"):
        plain = len(client.get(f"/console/assets/{name}").data)
        packed = len(client.get(f"/console/assets/{name}", headers={"Accept-Encoding": "gzip"}).data)
        print(f"{name:24} {plain} bytes, {packed} gzipped ({packed / plain:.2f}x)")


if __name__ == "__main__":
    main()
