"""`flask secrets reseal`: stored credentials and hook secrets sealed again under the newest SECRET_KEY."""

import click
from flask.cli import AppGroup
from sqlalchemy import select

from reengage.models import Connection, Hook
from reengage.platform import db, vault

secret_keys = AppGroup("secrets", help="SECRET_KEY rotation.")


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
