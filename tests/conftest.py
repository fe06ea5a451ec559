"""Fixtures: the app on each configured database, an HTTP client, accounts with keys.

The suite always runs on SQLite; with DATABASE_URL set it runs again on that database.
Tests that need PostgreSQL or Redis skip when it is unreachable, unless REQUIRE_SERVICES=1.
"""

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import create_engine, inspect, text

from app import create_app
from reengage import accounts
from reengage.platform import busy, db
from reengage.web import ratelimit
from tests.support import require_service, settings

TABLES = ("trigger_items", "escalations", "deal_outcomes", "deal_signals", "deal_contacts", "deals", "product_updates",
          "hook_deliveries", "hooks", "connections", "messages", "enrollments", "suppressions", "flow_routes",
          "flows", "dropoffs", "watches", "rules", "service_statuses", "events", "contact_identities", "contacts",
          "dashboard_sessions", "api_keys", "dropoff_rollups", "message_rollups", "dropoff_touches", "accounts",
          "clock_ticks")



def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get("DATABASE_URL") else ["sqlite"]


def _reset_postgresql(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        for table in (*TABLES, "alembic_version"):
            if inspect(connection).has_table(table):
                connection.execute(text(f'DROP TABLE "{table}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="session", params=_backends())
def database_url(request, tmp_path_factory) -> str:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        url = os.environ["DATABASE_URL"]
        try:
            _reset_postgresql(url)
        except Exception as error:
            require_service("PostgreSQL", str(error).splitlines()[0])
    db.upgrade(url)
    return url


@pytest.fixture
def unmigrated_url(database_url, tmp_path) -> Iterator[str]:
    """An empty, never migrated database on the backend of `database_url` (a schema of its own on PostgreSQL)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'unmigrated.db'}"
        return
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS unmigrated CASCADE"))
        connection.execute(text("CREATE SCHEMA unmigrated"))
    separator = "&" if "?" in database_url else "?"
    yield f"{database_url}{separator}options=-csearch_path%3Dunmigrated"
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS unmigrated CASCADE"))
    engine.dispose()




@pytest.fixture(autouse=True)
def no_recent_traffic(monkeypatch) -> None:
    """A test's requests do not count as light traffic for the next one's bulk work (which would then hold SQLite's
    lock in shorter turns); the tests of that behaviour set busy.RECENT_SECONDS themselves."""
    monkeypatch.setattr(busy, "RECENT_SECONDS", 0.0)
    monkeypatch.setattr(busy, "_light_ended", time.monotonic() - 3600)
    monkeypatch.setattr(busy, "_shared_light_ended", None)


@pytest.fixture
def app(database_url) -> Iterator[Flask]:
    """The app on a clean database."""
    application = create_app(settings(database_url))
    yield application
    with application.app_context():
        engine = db.engine()
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
            else:
                for table in TABLES:
                    connection.execute(text(f"DELETE FROM {table}"))
        engine.dispose()


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@dataclass
class Tenant:
    """An account and a key that acts for it."""

    id: int
    name: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture
def make_account(app):
    """Create accounts with a fresh API key each."""

    def make(name: str = "Acme") -> Tenant:
        with app.app_context(), db.transaction() as db_session:
            account, key = accounts.create(db_session, name)
            return Tenant(account.id, name, key)

    return make


@pytest.fixture
def acme(make_account) -> Tenant:
    return make_account("Acme")


@pytest.fixture
def globex(make_account) -> Tenant:
    return make_account("Globex")


@pytest.fixture
def redis_url() -> str:
    """A reachable Redis (REDIS_URL, else the local default)."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        Redis.from_url(url, socket_connect_timeout=1).ping()
    except RedisError as error:
        require_service("Redis", str(error))
    return url


@pytest.fixture
def sendgrid(app):
    """A local SendGrid that the app's SendGrid client calls."""
    from tests.fakes.sendgrid import FakeSendGrid

    fake = FakeSendGrid()
    app.config["SENDGRID_API_HOST"] = fake.url
    yield fake
    fake.close()


@pytest.fixture
def hubspot(app):
    """A local HubSpot that the app's HubSpot client calls."""
    from tests.fakes.hubspot import FakeHubSpot

    fake = FakeHubSpot()
    app.config["HUBSPOT_API_HOST"] = fake.url
    yield fake
    fake.close()


@pytest.fixture
def receiver(app):
    """A local REST hook target, on an address the app is told it may post to."""
    from tests.fakes.receiver import FakeReceiver

    fake = FakeReceiver()
    app.config["HOOK_ALLOWED_NETWORKS"] = ("127.0.0.0/8",)
    app.config["HOOK_REQUIRE_HTTPS"] = False
    yield fake
    fake.close()


class RateClock:
    """The clock the rate limits' windows read (they start on the minute), set to the middle of a minute so that a
    test never meets a window's end by chance; `next_window` moves it one minute on."""

    def __init__(self) -> None:
        self.offset = 30 - time.time() % 60

    def __call__(self) -> float:
        return time.time() + self.offset

    def next_window(self) -> None:
        self.offset += 60


@pytest.fixture
def rate_clock(monkeypatch) -> RateClock:
    clock = RateClock()
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=clock))
    return clock
