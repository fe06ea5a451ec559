"""`python3 dev.py serve` as a newcomer runs it: it says what it does, prints the next steps, and unsubscribe and
webhook links point at the address it serves on."""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.test_server import call, free_port

ROOT = Path(__file__).resolve().parent.parent


def test_serve_prints_the_next_steps_and_links_point_where_it_serves(tmp_path):
    # A copy of dev.py beside the project's environment, so that its database is made in a scratch folder.
    shutil.copy(ROOT / "dev.py", tmp_path / "dev.py")
    shutil.copy(ROOT / "requirements.txt", tmp_path / "requirements.txt")
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PUBLIC_URL")}
    env.update(PYTHONPATH=str(ROOT), FLASK_APP="app:app")
    server = subprocess.Popen([sys.executable, "dev.py", "serve", "--bind", f"127.0.0.1:{port}"], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=open(tmp_path / "serve.log", "w"))
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                call(f"{base}/livez")
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
        said = (tmp_path / "serve.log").read_text()
        assert f"starting the server on http://localhost:{port}" in said
        assert "accounts create" in said and f"http://localhost:{port}/console" in said
        key = subprocess.run([tmp_path / ".venv/bin/flask", "accounts", "create", "Acme", "--key-only"], cwd=tmp_path,
                             env=env, capture_output=True, text=True, check=True).stdout.strip()
        status, shown = call_put(f"{base}/v1/connections/sendgrid", key)
        assert status == 200 and shown["event_webhook_url"].startswith(f"http://localhost:{port}/v1/webhooks/")
    finally:
        server.terminate()
        server.wait(timeout=30)


def call_put(url: str, key: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps({"api_key": "SG.test.key-abcdef", "from_email":
                                                           "a@acme.com"}).encode(), method="PUT")
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {key}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.load(response)
