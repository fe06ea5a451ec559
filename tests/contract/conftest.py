"""A Python client generated from openapi.yaml by openapi-python-client, and a live server for it to call."""

import hashlib
import importlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from types import ModuleType

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import TABLES

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi.yaml"
BIN = Path(sys.executable).parent
PACKAGE = "reengage_client"


@pytest.fixture(scope="session")
def api_client(request) -> ModuleType:
    """The generated package, imported; generated again only when openapi.yaml or the generator changes."""
    digest = hashlib.sha256(SPEC.read_bytes() + version("openapi-python-client").encode()).hexdigest()[:16]
    folder = request.config.cache.mkdir(f"generated-client-{digest}")
    if not (folder / PACKAGE / "client.py").exists():
        shutil.rmtree(folder / PACKAGE, ignore_errors=True)
        (folder / "config.yaml").write_text("post_hooks: []\n")  # no formatter run: the code is only imported
        run = subprocess.run([BIN / "openapi-python-client", "generate", "--path", SPEC, "--meta", "none",
                              "--output-path", folder / PACKAGE, "--config", folder / "config.yaml"],
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0 and "Warning" not in run.stdout, run.stdout[-4000:] + run.stderr[-2000:]
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wipe(url: str) -> None:
    """Leave the shared PostgreSQL test database as empty as the other tests expect it."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(scope="module")
def live(database_url, tmp_path_factory) -> Iterator[dict]:
    """gunicorn on this backend (SQLite: the embedded default in its own folder), with an account and its key."""
    folder, port = tmp_path_factory.mktemp("contract-live"), _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {name: value for name, value in os.environ.items() if name not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    env.update(PYTHONPATH=str(ROOT), FLASK_APP="app:app", PORT=str(port), WEB_CONCURRENCY="1", LOG_LEVEL="WARNING",
               PUBLIC_URL=base, HOOK_ALLOWED_NETWORKS="127.0.0.0/8", HOOK_REQUIRE_HTTPS="false",
               CLOCK_INTERVAL_SECONDS="0.5", RATE_LIMIT="100000 per minute")
    postgresql = database_url.startswith("postgresql")
    if postgresql:
        env.update(DATABASE_URL=database_url, SECRET_KEY="contract-test-secret")
    key = subprocess.run([BIN / "flask", "accounts", "create", "Client Test Co", "--key-only"], cwd=folder, env=env,
                         check=True, capture_output=True, text=True).stdout.strip()
    server = subprocess.Popen([BIN / "gunicorn", "-c", ROOT / "gunicorn.conf.py", "app:app"], cwd=folder, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the live server did not start: {server.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
        yield {"base": base, "key": key}
    finally:
        server.terminate()
        server.wait(timeout=10)
        if postgresql:
            _wipe(database_url)
