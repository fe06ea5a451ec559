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
