"""The quick start, as a newcomer runs it: gunicorn on the embedded default, the CLI, curl."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(url: str, body: dict | None = None, key: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture
def server(request, tmp_path):
    """gunicorn serving the embedded default from an empty folder (writing an access log if given one)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    param = getattr(request, "param", "")
    env.update(PYTHONPATH=str(ROOT), PORT=str(port), FLASK_APP="app:app", **(
        param if isinstance(param, dict) else {"ACCESS_LOG": param}))
    process = subprocess.Popen(
        [BIN / "gunicorn", "-c", ROOT / "gunicorn.conf.py", "app:app"], cwd=tmp_path, env=env,
        stdout=(tmp_path / "stdout.log").open("w"), stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            status, health = call(f"{base}/healthz")
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"server did not start: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
    yield {"base": base, "env": env, "cwd": tmp_path, "health": (status, health)}
    process.terminate()
    process.wait(timeout=10)


def test_quick_start_serves_health_and_stores_an_event(server):
    status, health = server["health"]
    assert status == 200 and health["status"] == "ok" and health["redis"] == "not configured"
    assert (server["cwd"] / "reengage.db").stat().st_mode & 0o077 == 0  # readable by its owner alone
    created = subprocess.run(
        [BIN / "flask", "accounts", "create", "Acme", "--key-only"], cwd=server["cwd"], env=server["env"],
        capture_output=True, text=True, check=True,
    )
    key = created.stdout.strip()
    event = {"id": "order-1001", "type": "application_started", "contact": {"email": "dana@example.com"}}
    assert call(f"{server['base']}/v1/events", event, key) == (200, {"id": "order-1001", "contact_id": 1,
                                                                       "status": "created"})
    status, events = call(f"{server['base']}/v1/events", key=key)
    assert status == 200 and [e["id"] for e in events] == ["order-1001"]
    # The worker's background job (not the request) stamps the contact's last event.
    deadline = time.monotonic() + 10
    while call(f"{server['base']}/v1/contacts/1", key=key)[1]["last_event_at"] is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.mark.parametrize("server", ["access.log"], indirect=True)
def test_the_access_log_leaves_out_the_tokens_of_webhook_and_unsubscribe_urls(server):
    paths = ("/v1/webhooks/hubspot/hs-secret-token?type=x", "/v1/hubspot/actions/act-secret-token",
             "/v1/webhooks/sendgrid/sg-secret-token", "/u/unsub-secret-token")
    for path in paths:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(f"{server['base']}{path}", data=b"{}"), timeout=10)
        assert refused.value.code in (401, 404)
    log = server["cwd"] / "access.log"
    deadline = time.monotonic() + 30
    while log.read_text().count("\n") < len(paths) + 1 or "POST /u/" not in log.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    text = log.read_text()
    assert "secret-token" not in text
    assert "POST /v1/webhooks/hubspot/[token]?type=x" in text and "POST /u/[token]" in text, text


def request_lines(server, count: int) -> list[str]:
    """The first `count` lines the server wrote to stdout (its request log), waiting for them."""
    log = server["cwd"] / "stdout.log"
    deadline = time.monotonic() + 30
    while log.read_text().count("\n") < count:
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    return log.read_text().splitlines()


@pytest.mark.parametrize("server", [{"METRICS_TOKEN": "scrape-me", "PROMETHEUS_MULTIPROC_DIR": "metrics"}],
                         indirect=True)
def test_requests_are_logged_as_json_lines_without_secrets_and_counted_across_workers(server):
    key = subprocess.run([BIN / "flask", "accounts", "create", "Acme", "--key-only"], cwd=server["cwd"],
                         env=server["env"], capture_output=True, text=True, check=True).stdout.strip()
    event = {"id": "order-1", "type": "application_started", "contact": {"email": "dana@example.com"}}
    request = urllib.request.Request(f"{server['base']}/v1/events", data=json.dumps(event).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}",
                                              "X-Request-ID": "trace-42"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["X-Request-ID"] == "trace-42"
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(urllib.request.Request(f"{server['base']}/u/unsub-secret-token?token=abc"), timeout=10)
    lines = [json.loads(line) for line in request_lines(server, 3)]  # health, the event, the unsubscribe page
    posted = next(line for line in lines if line.get("request_id") == "trace-42")
    assert posted["route"] == "/v1/events" and posted["status"] == 200 and posted["account_id"] == 1
    assert posted["method"] == "POST" and posted["duration_ms"] > 0 and posted["level"] == "INFO"
    text = (server["cwd"] / "stdout.log").read_text()
    assert "secret-token" not in text and "token=abc" not in text and key not in text
    # Every request, whichever of the two workers answered it, in the one exposition.
    scraped = urllib.request.urlopen(urllib.request.Request(
        f"{server['base']}/metrics", headers={"Authorization": "Bearer scrape-me"}), timeout=10).read().decode()
    assert 'reengage_http_request_duration_seconds_count{method="POST",route="/v1/events",status="200"} 1.0' in scraped
    assert 'reengage_events_received_total{status="created"} 1.0' in scraped


@pytest.mark.parametrize("server", [{"LOG_FORMAT": "text"}], indirect=True)
def test_log_format_text_writes_plain_lines(server):
    line = request_lines(server, 1)[0]
    assert line.endswith("INFO reengage.access: GET /healthz 200") and not line.startswith("{")
