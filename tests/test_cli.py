"""The accounts command line."""


def test_create_account_prints_a_working_key_once(app, client):
    result = app.test_cli_runner().invoke(args=["accounts", "create", "Initech"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert client.get("/v1/me", headers={"X-API-Key": key}).json["name"] == "Initech"
    listing = app.test_cli_runner().invoke(args=["accounts", "keys", "list", "1"]).output
    assert key not in listing
    assert key[: len("rk_") + 10] in listing


def test_key_only_prints_just_the_key(app):
    result = app.test_cli_runner().invoke(args=["accounts", "create", "Hooli", "--key-only"])
    assert result.output.count("\n") == 1 and result.output.startswith("rk_")


def test_keys_for_a_missing_account_or_prefix_fail_clearly(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["accounts", "keys", "create", "999"])
    assert result.exit_code != 0 and "No account 999" in result.output
    result = runner.invoke(args=["accounts", "keys", "revoke", "rk_nosuchkey0"])
    assert result.exit_code != 0 and "No key" in result.output


def test_accounts_list_counts_active_keys(app, acme):
    runner = app.test_cli_runner()
    runner.invoke(args=["accounts", "keys", "create", str(acme.id)])
    runner.invoke(args=["accounts", "keys", "revoke", acme.key])
    assert "1 active key(s)" in runner.invoke(args=["accounts", "list"]).output


def test_db_upgrade_leaves_a_current_database_current(app):
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0 and "up to date" in result.output


def test_commands_on_an_unmigrated_database_say_to_upgrade_without_a_traceback(unmigrated_url):
    from app import create_app
    from tests.support import settings

    runner = create_app(settings(unmigrated_url)).test_cli_runner()
    for args in (["accounts", "create", "Initech"], ["accounts", "list"], ["accounts", "keys", "list", "1"], ["clock"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1, (args, result.output)
        assert "never migrated" in result.output and "run flask db upgrade." in result.output
        assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["accounts", "create", "Initech", "--key-only"]).output.startswith("rk_")


def test_every_app_built_shares_the_commands_unchanged(database_url):
    """Building an app (as each test and worker does) must not wrap the shared commands once more each time."""
    from app import create_app
    from reengage import cli
    from tests.support import settings

    create_app(settings(database_url))
    before = cli.accounts.commands["create"].callback
    create_app(settings(database_url))
    assert cli.accounts.commands["create"].callback is before



def test_the_clock_stops_cleanly_on_sigterm(tmp_path):
    """Process managers and containers stop a process with SIGTERM; the clock must not wait to be killed."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from sqlalchemy import create_engine, text

    from reengage.platform import db

    url = f"sqlite:///{tmp_path / 'clock.db'}"
    db.upgrade(url)
    env = {name: value for name, value in os.environ.items() if name not in ("REDIS_URL", "PUBLIC_URL")}
    env.update(DATABASE_URL=url, SECRET_KEY="clock-test", FLASK_APP="app:app", CLOCK_INTERVAL_SECONDS="0.2",
               PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    clock = subprocess.Popen([Path(sys.executable).parent / "flask", "clock"], cwd=tmp_path, env=env,
                             stdout=subprocess.DEVNULL, stderr=(tmp_path / "clock.log").open("w"))
    engine = create_engine(url)
    try:
        deadline = time.monotonic() + 30
        while True:  # until it has ticked
            with engine.connect() as connection:
                if connection.scalar(text("SELECT count(*) FROM clock_ticks")):
                    break
            assert clock.poll() is None and time.monotonic() < deadline, (tmp_path / "clock.log").read_text()
            time.sleep(0.1)
        clock.send_signal(signal.SIGTERM)
        assert clock.wait(timeout=10) == 0, (tmp_path / "clock.log").read_text()[-2000:]
    finally:
        clock.kill()
        engine.dispose()
