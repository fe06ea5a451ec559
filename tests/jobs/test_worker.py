"""The worker outlives Redis outages: it waits for Redis at start and works on after Redis comes back."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from redis import Redis
from sqlalchemy import select

from app import create_app
from reengage.models import Event
from reengage.platform import db
from tests.fakes.tcp_proxy import TcpProxy
from tests.support import event, settings

ROOT = Path(__file__).resolve().parents[2]


def processed(app) -> list[bool]:
    with app.app_context():
        return [e.processed_at is not None for e in db.session().scalars(select(Event).order_by(Event.id))]


def wait_until(check, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_worker_waits_for_redis_and_survives_an_outage(database_url, make_account, redis_url, tmp_path):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    app = create_app(settings(database_url, REDIS_URL=redis_url, RQ_QUEUE=queue, JOBS_INLINE=False))
    tenant = make_account()
    parts = urlsplit(redis_url)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 6379))
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret", "PYTHONPATH": str(ROOT),
           "REDIS_URL": urlunsplit(parts._replace(netloc=proxy.url_host))}
    worker = subprocess.Popen([sys.executable, "-m", "reengage.jobs.worker", queue], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(2)  # Redis is away: `rq worker` would have exited by now
        assert worker.poll() is None
        proxy.restore()
        client = app.test_client()
        assert client.post("/v1/events", json=event("first"), headers=tenant.headers).json["status"] == "created"
        wait_until(lambda: processed(app) == [True])

        proxy.cut()  # Redis goes away for a while, then comes back
        time.sleep(3)
        proxy.restore()
        assert client.post("/v1/events", json=event("second"), headers=tenant.headers).json["status"] == "created"
        wait_until(lambda: processed(app) == [True, True], seconds=60)
        assert worker.poll() is None
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            output = worker.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired as late:
            worker.kill()
            raise AssertionError(late.output) from None
        proxy.cut()
        Redis.from_url(redis_url).delete(f"rq:queue:{queue}")
    assert "Redis is unreachable" in output and worker.returncode == 0
