"""Command line: `flask accounts ...`, `flask db upgrade|backup|restore`, `flask hubspot action-definition`,
`flask clock`, `flask integrations export`, `flask secrets reseal`; one module a command group."""

import functools

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy.exc import OperationalError

from reengage.cli.accounts import accounts, revoke_key
from reengage.cli.clock import run_clock
from reengage.cli.database import database
from reengage.cli.integrations import hubspot, integration_apps
from reengage.cli.secrets import secret_keys
from reengage.platform import db, schema

__all__ = ["accounts", "init_app", "revoke_key"]


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
