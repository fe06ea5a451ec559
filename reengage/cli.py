"""Command line: `flask accounts ...`, `flask db upgrade`, `flask hubspot action-definition`, `flask clock`,
`flask db backup|restore`, `flask integrations export`, `flask secrets reseal`."""

import functools
import json
import threading
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from reengage import accounts as accounts_service
from reengage import connections
from reengage.jobs import clock
from reengage.models import Account, ApiKey, Connection, Hook
from reengage.platform import backup, db, schema, vault
from reengage.platform.auth import KEY_PREFIX, mint_key
from reengage.providers.hubspot import action
from reengage.web import declarations

accounts = AppGroup("accounts", help="Manage accounts (one per business or agency client).")
keys = AppGroup("keys", help="Manage an account's API keys.")
accounts.add_command(keys)
database = AppGroup("db", help="Manage the database schema.")
hubspot = AppGroup("hubspot", help="HubSpot: the custom workflow action.")
integration_apps = AppGroup("integrations", help="The Zapier and Make apps.")
secret_keys = AppGroup("secrets", help="SECRET_KEY rotation.")


@integration_apps.command("export")
@click.argument("path", default="integrations/zapier/declarations.json")
def export_declarations(path: str) -> None:
    """Write every trigger, action, search and dropdown the apps offer (with fields and samples) to PATH."""
    with open(path, "w") as handle:
        json.dump(declarations.declarations(), handle, indent=2, sort_keys=True)
        handle.write("\n")
    click.echo(f"Wrote {path}.")


@accounts.command("create")
@click.argument("name")
@click.option("--key-only", is_flag=True, help="Print only the new API key (for scripts).")
def create_account(name: str, key_only: bool) -> None:
    """Create an account and print its first API key (shown once)."""
    with db.transaction() as db_session:
        account, key = accounts_service.create(db_session, name)
    if key_only:
        click.echo(key)
        return
    click.echo(f"Created account {account.id} ({account.name}).")
    click.echo("Its API key, shown this once; store it now:")
    click.echo(key)


@accounts.command("list")
def list_accounts() -> None:
    """List accounts with their number of active keys."""
    db_session = db.session()
    for account in db_session.scalars(select(Account).order_by(Account.id)):
        active = sum(1 for key in account.keys if key.revoked_at is None)
        click.echo(f"{account.id}\t{account.name}\t{active} active key(s)")


@keys.command("create")
@click.argument("account_id", type=int)
@click.option("--label", help="What the key is for, e.g. 'Zapier'.")
def create_key(account_id: int, label: str | None) -> None:
    """Create another API key for ACCOUNT_ID and print it (shown once)."""
    with db.transaction() as db_session:
        account = db_session.get(Account, account_id)
        if account is None:
            raise click.ClickException(f"No account {account_id}.")
        _, key = mint_key(db_session, account, label=label)
    click.echo(key)


@keys.command("list")
@click.argument("account_id", type=int)
def list_keys(account_id: int) -> None:
    """List ACCOUNT_ID's keys by prefix (the secret part is never stored)."""
    query = select(ApiKey).where(ApiKey.account_id == account_id).order_by(ApiKey.id)
    for key in db.session().scalars(query):
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        click.echo(f"{KEY_PREFIX}{key.prefix}_…\t{state}\t{key.label or ''}")


@keys.command("revoke")
@click.argument("key")
def revoke_key(key: str) -> None:
    """Revoke KEY, given whole or by its prefix (`rk_abc123xyz0`); it stops working at once."""
    prefix = key.removeprefix(KEY_PREFIX).partition("_")[0]
    with db.transaction() as db_session:
        api_key = db_session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        if api_key is None:
            raise click.ClickException(f"No key with prefix {KEY_PREFIX}{prefix}.")
        if api_key.revoked_at is None:
            api_key.revoked_at = db.utcnow()
    click.echo(f"Revoked {KEY_PREFIX}{prefix}.")


@database.command("upgrade")
@click.option("--wait", default=0, show_default=True, help="Seconds to wait for the database to accept connections.")
def upgrade(wait: int) -> None:
    """Migrate the database to the newest schema (the Procfile's release step)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            db.upgrade(current_app.config["DATABASE_URL"])
            break
        except OperationalError as error:
            if time.monotonic() >= deadline:
                raise click.ClickException(f"Cannot reach the database: {str(error.orig).strip()}") from None
            time.sleep(1)
    click.echo("Database is up to date.")


@secret_keys.command("reseal")
def reseal() -> None:
    """Seal every stored credential and hook secret again under the newest SECRET_KEY (the first listed)."""
    counts = {"connection": 0, "hook": 0}
    with db.transaction() as db_session:
        sealed: list[tuple[str, Connection | Hook, str]]
        sealed = [(f"connection {c.id}", c, "sealed") for c in db_session.scalars(select(Connection))]
        sealed += [(f"hook {h.id}", h, "sealed_secret") for h in db_session.scalars(select(Hook))]
        for name, row, column in sorted(sealed, key=lambda item: item[0]):
            if getattr(row, column):
                try:
                    setattr(row, column, vault.reseal(getattr(row, column)))
                except vault.SealedError as error:
                    raise click.ClickException(f"{name}: {error}; nothing was changed") from None
                counts[name.split()[0]] += 1
    click.echo(f"Resealed {counts['connection']} connection(s) and {counts['hook']} hook secret(s) under the newest "
               "SECRET_KEY: the older keys can now be removed from SECRET_KEY.")


@database.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_database(path: Path) -> None:
    """Write the whole database to PATH (SQLite: a copy, safe while serving; PostgreSQL: pg_dump's format)."""
    try:
        backup.backup(current_app.config["DATABASE_URL"], path)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up the database to {path}.")


@database.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database's contents.")
def restore_database(path: Path, yes: bool) -> None:
    """Replace the database's contents with the backup at PATH (stop web, worker and clock first)."""
    if not yes:
        click.confirm("This replaces everything in the database. Go on?", abort=True)
    try:
        backup.restore(current_app.config["DATABASE_URL"], path)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored the database from {path}; run flask db upgrade if the backup is older than the code.")


@hubspot.command("action-definition")
@click.argument("account_id", type=int)
@click.option("--draft", is_flag=True, help="Register the action unpublished (only your portals see it).")
def action_definition(account_id: int, draft: bool) -> None:
    """Print the JSON that registers ACCOUNT_ID's custom workflow action (POST /automation/actions/2026-03/{appId})."""
    connection = connections.find(account_id, "hubspot")
    if connection is None:
        raise click.ClickException(f"Account {account_id} has no HubSpot connection: PUT /v1/connections/hubspot.")
    action_url = connections.view(connection)["action_url"]
    click.echo(json.dumps(action.definition(action_url, published=not draft), indent=2))
    app_id = (connection.settings or {}).get("app_id")
    target = action.DEFINITIONS_PATH.replace("{appId}", str(app_id) if app_id else "<your app id>")
    click.echo(f"POST it to https://api.hubapi.com{target} with your developer API key.", err=True)


@click.command("clock")
def run_clock() -> None:
    """Run the clock in the foreground until interrupted."""
    stop = threading.Event()
    try:
        # The clock runs in its own thread, so it takes the app itself rather than the proxy.
        clock.run(current_app._get_current_object(), stop)  # type: ignore[attr-defined]  # a proxy method
    except KeyboardInterrupt:
        stop.set()


def needs_schema(command: click.Command) -> None:
    """Make `command` (and a group's subcommands) stop with the fix, not a traceback, on a database behind the code."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            needs_schema(sub)
        return
    work = command.callback
    assert work is not None

    @functools.wraps(work)
    def checked(*args, **kwargs):
        try:
            schema.require_current(db.engine())
        except schema.NotMigrated as error:
            raise click.ClickException(f"{str(error)[0].upper()}{str(error)[1:]}.") from None
        except OperationalError as error:
            raise click.ClickException(f"Cannot reach the database: {str(error.orig).strip()}") from None
        return work(*args, **kwargs)

    command.callback = with_appcontext(checked)


# All but `db` and `integrations` need a migrated database; wrapped once, at import (apps share the commands).
for _command in (accounts, hubspot, run_clock, secret_keys):
    needs_schema(_command)


def init_app(app: Flask) -> None:
    """Register the commands on the app."""
    for command in (accounts, database, hubspot, integration_apps, run_clock, secret_keys):
        app.cli.add_command(command)
