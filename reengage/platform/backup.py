"""Backups of the database into one file, and restores from one: SQLite through its online backup API (safe while
the server runs), PostgreSQL through pg_dump and pg_restore (which must be on the PATH, at the server's version)."""

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import make_url


class BackupError(Exception):
    """A backup or restore that could not be made; the message says why."""


def backup(url: str, path: Path) -> None:
    """Write the whole database at `url` to `path` (an SQLite file, or pg_dump's custom format)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _sqlite_copy(Path(parsed.database or ""), path)
    else:
        _run("pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={path}", _dsn(url))


def restore(url: str, path: Path) -> None:
    """Replace the contents of the database at `url` with the backup at `path`."""
    if not path.is_file():
        raise BackupError(f"no backup at {path}")
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _sqlite_copy(path, Path(parsed.database or ""))
    else:
        _run("pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
             f"--dbname={_dsn(url)}", str(path))


def _sqlite_copy(source: Path, target: Path) -> None:
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    with sqlite3.connect(source) as reading, sqlite3.connect(target) as writing:
        reading.backup(writing)
    writing.close()
    reading.close()


def _dsn(url: str) -> str:
    """The libpq form of a SQLAlchemy URL (without the driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(tool: str, *args: str) -> None:
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed: install PostgreSQL's client tools (e.g. postgresql-client)")
    done = subprocess.run([tool, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{tool} failed: {done.stderr.strip()[-500:]}")
