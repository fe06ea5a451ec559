"""`flask accounts create|list` and `flask accounts keys create|list|revoke`: accounts and their API keys."""

import click
from flask.cli import AppGroup
from sqlalchemy import select

from reengage import accounts as accounts_service
from reengage.models import Account, ApiKey
from reengage.platform import db
from reengage.platform.auth import KEY_PREFIX, mint_key

accounts = AppGroup("accounts", help="Manage accounts (one per business or agency client).")
keys = AppGroup("keys", help="Manage an account's API keys.")
accounts.add_command(keys)


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
