"""The Zapier app's own tests (integrations/zapier/test), run against a live server started here."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.support import require_service

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "integrations" / "zapier"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def node() -> str:
    """Node and npm, with the app's packages installed from its lock file."""
    found, npm = shutil.which("node"), shutil.which("npm")
    if not found or not npm:
        require_service("Node.js", "node and npm are needed for the Zapier app's tests")
    lock, stamp = APP / "package-lock.json", APP / "node_modules" / ".installed-lock"
    if not stamp.exists() or stamp.read_bytes() != lock.read_bytes():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=APP, check=True, capture_output=True)
        stamp.write_bytes(lock.read_bytes())
    return found


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """A real server (gunicorn, the embedded default) in its own folder, with an account and the sales flow."""
    folder, port = tmp_path_factory.mktemp("zapier-live"), free_port()
    env = {name: value for name, value in os.environ.items() if name not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    env.update(PYTHONPATH=str(ROOT), FLASK_APP="app:app", PORT=str(port), WEB_CONCURRENCY="1", LOG_LEVEL="WARNING",
               HOOK_ALLOWED_NETWORKS="127.0.0.0/8", HOOK_REQUIRE_HTTPS="false")
    key = subprocess.run([BIN / "flask", "accounts", "create", "Zapier Test Co", "--key-only"], cwd=folder, env=env,
                         check=True, capture_output=True, text=True).stdout.strip()
    server = subprocess.Popen([BIN / "gunicorn", "-c", ROOT / "gunicorn.conf.py", "app:app"], cwd=folder, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(f"{url}/healthz", timeout=5).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still migrating
                time.sleep(0.1)
        else:
            raise RuntimeError("the live server did not start")
        headers = {"Authorization": f"Bearer {key}"}
        assert requests.post(f"{url}/v1/flows", json={"template": "sales"}, headers=headers, timeout=10).ok
        yield url, key
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_zapier_apps_tests_pass_against_a_live_server(node, live_server):
    url, key = live_server
    run = subprocess.run([node, "--test", "test/"], cwd=APP, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "REENGAGE_URL": url, "REENGAGE_API_KEY": key})
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert "# skipped 0" in run.stdout and "# fail 0" in run.stdout
