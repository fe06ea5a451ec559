"""`flask db upgrade|backup|restore`: the schema, and the whole database to a file and back."""

import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import OperationalError

from reengage.platform import backup, db

database = AppGroup("db", help="Manage the database schema.")


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
