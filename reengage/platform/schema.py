"""Whether the database's schema is the one the code needs: read by readiness and the command line."""

import functools

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from reengage.platform import db

UPGRADE_HINT = "run flask db upgrade"


class NotMigrated(Exception):
    """The database lacks migrations the code needs."""


@functools.lru_cache(maxsize=1)
def heads() -> frozenset[str]:
    """The newest revisions the shipped migrations define."""
    return frozenset(ScriptDirectory.from_config(db.alembic_config("sqlite://")).get_heads())


def behind(engine: Engine) -> str | None:
    """Why the database at `engine` is not at the newest revision (in words), or None when it is."""
    with engine.connect() as connection:
        current = frozenset(MigrationContext.configure(connection).get_current_heads())
    if current == heads():
        return None
    at = ", ".join(sorted(current)) or "no revision (never migrated)"
    return f"the database schema is at {at}, the code needs {', '.join(sorted(heads()))}: {UPGRADE_HINT}"


def require_current(engine: Engine) -> None:
    """Raise NotMigrated, saying what to do, unless the database is at the newest revision."""
    reason = behind(engine)
    if reason is not None:
        raise NotMigrated(reason)
