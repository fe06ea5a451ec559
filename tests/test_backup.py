"""Backup, wipe, restore: `flask db backup` then `flask db restore` give back the same data, on each backend."""

import os
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, make_url, text

from app import create_app
from reengage import accounts
from reengage.platform import db
from tests.support import require_service, settings
from tests.support.journeys import DANA, T, abandon, messages, setup_sales, tick


@pytest.fixture
def own_database(database_url, tmp_path):
    """A database of its own (a file, or a PostgreSQL database made for the test), and a way to wipe it."""
    if database_url.startswith("sqlite"):
        path = tmp_path / "own.db"
        yield f"sqlite:///{path}", lambda: path.unlink()
        return
    name = f"backup_{uuid.uuid4().hex[:8]}"
    server = create_engine(make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT")

    def recreate() -> None:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))

    try:
        recreate()
    except Exception as error:
        require_service("PostgreSQL", str(error).splitlines()[0])
    yield make_url(database_url).set(database=name).render_as_string(hide_password=False), recreate
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def read_metrics(url: str, key: str) -> dict:
    app = create_app(settings(url))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    answers = {path: client.get(path, headers=headers).json for path in (
        "/v1/metrics?group_by=stage", "/v1/dropoffs", "/v1/messages", "/v1/events")}
    with app.app_context():
        db.engine().dispose()
    return answers


def test_backup_wipe_restore_gives_the_same_metrics(own_database, tmp_path):
    url, wipe = own_database
    db.upgrade(url)
    app = create_app(settings(url))
    client = app.test_client()
    with app.app_context(), db.transaction() as session:
        account, key = accounts.create(session, "Acme")
    tenant = type("Tenant", (), {"id": account.id, "headers": {"Authorization": f"Bearer {key}"}})
    setup_sales(client, tenant)
    enrollment = abandon(app, client, tenant, DANA)
    first = messages(client, tenant, enrollment["id"])["1.pick-up"]
    tick(app, T + timedelta(days=2))
    assert client.get(f"/v1/messages/{first['id']}", headers=tenant.headers).json["status"] == "sent"
    with app.app_context():
        db.engine().dispose()
    before = read_metrics(url, key)
    assert before["/v1/metrics?group_by=stage"][0]["dropoffs"] == 1

    runner = create_app(settings(url)).test_cli_runner()
    saved = runner.invoke(args=["db", "backup", str(tmp_path / "reengage.backup")])
    assert saved.exit_code == 0, saved.output
    wipe()
    assert read_metrics_fails(url, key)

    restored = create_app(settings(url)).test_cli_runner().invoke(
        args=["db", "restore", "--yes", str(tmp_path / "reengage.backup")])
    assert restored.exit_code == 0, restored.output
    assert read_metrics(url, key) == before


def read_metrics_fails(url: str, key: str) -> bool:
    """After the wipe the data is gone: the key no longer answers (an empty, unmigrated database)."""
    response = create_app(settings(url)).test_client().get("/v1/me", headers={"Authorization": f"Bearer {key}"})
    return response.status_code in (401, 503)


def test_restore_of_a_missing_file_says_so(database_url, tmp_path):
    result = create_app(settings(database_url)).test_cli_runner().invoke(
        args=["db", "restore", "--yes", str(tmp_path / "none.backup")])
    assert result.exit_code == 1 and "no backup at" in result.output


@pytest.mark.skipif(os.environ.get("DATABASE_URL") is None, reason="PostgreSQL only")
def test_backup_without_pg_dump_names_the_missing_tool(database_url, tmp_path, monkeypatch):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite needs no outside tool")
    monkeypatch.setenv("PATH", str(tmp_path))
    result = create_app(settings(database_url)).test_cli_runner().invoke(
        args=["db", "backup", str(tmp_path / "x.backup")])
    assert result.exit_code == 1 and "pg_dump is not installed" in result.output
