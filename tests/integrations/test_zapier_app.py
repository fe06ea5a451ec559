"""The Zapier app checked by Zapier's own CLI (`zapier-platform validate`) and its own tests against a live server.

Node 22 and the CLI come from the npm registry as the app's dev dependencies (the `node` package ships a Node 22
binary to node_modules/.bin), installed once from the lock file and kept until the lock file changes.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

import dev
from tests.support import require_service

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "integrations" / "zapier"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def node() -> dict[str, str]:
    """An environment whose PATH starts with the app's own Node 22 and CLI, installed from its lock file."""
    tools = dev.ensure_zapier_tools()
    if tools is None:
        require_service("Node.js", "npm is needed to install the Zapier app's Node 22 and CLI")
    version = subprocess.run([tools / "node", "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v22."), version
    return {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}", "DISABLE_ZAPIER_ANALYTICS": "1"}


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


def test_zapier_platform_validate_finds_the_app_sound(node):
    run = subprocess.run(["zapier-platform", "validate", "--without-style"], cwd=APP, env=node, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert "structurally sound" in run.stdout


def test_the_zapier_apps_tests_pass_against_a_live_server(node, live_server):
    url, key = live_server
    run = subprocess.run(["node", "--test", "test/*.test.js"], cwd=APP, capture_output=True, text=True, timeout=300,
                         env={**node, "REENGAGE_URL": url, "REENGAGE_API_KEY": key})
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert "# skipped 0" in run.stdout and "# fail 0" in run.stdout
