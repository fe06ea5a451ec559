"""The database: engine, per-context sessions, write transactions, column types, migrations."""

import contextvars
import fcntl
import importlib.util
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar, TypeVar

from alembic import command
from alembic.config import Config
from flask import Flask, current_app, g
from sqlalchemy import (
    JSON,
    BigInteger,
    BindParameter,
    Connection,
    DateTime,
    Engine,
    Integer,
    Table,
    create_engine,
    event,
    literal,
    make_url,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
# How many reads of one page run at once, each on a connection of its own (reads_side_by_side).
SIDE_BY_SIDE = 2
# Primary keys: BIGINT on PostgreSQL; SQLite only autoincrements an INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer, "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """The declarative base of every model."""

    # Every model is declared with `__tablename__`, so its table is a Table (statements are built on it).
    __table__: ClassVar[Table]


# The moment a clock tick runs as (set by `as_of`); None means the wall clock.
_as_of: ContextVar[datetime | None] = ContextVar("reengage_as_of", default=None)


def utcnow() -> datetime:
    """Now, as an aware UTC datetime: the wall clock, or the moment a clock tick runs as."""
    return _as_of.get() or datetime.now(UTC)


@contextmanager
def as_of(moment: datetime) -> Iterator[None]:
    """Run the block (and jobs it runs inline) as if it were `moment`: how the clock travels in time."""
    token = _as_of.set(moment)
    try:
        yield
    finally:
        _as_of.reset(token)


def make_engine(url: str) -> Engine:
    """Create an engine tuned for the backend behind `url`."""
    if not url.startswith("sqlite"):
        # No pre-ping: it costs a round trip per request. After a database restart the first
        # query of each process fails (a 503 that callers retry) and SQLAlchemy then replaces
        # the whole pool; recycling keeps connections younger than idle-connection reapers.
        # Many-row INSERT ... RETURNING (new contacts) is fastest in statements of about 200 rows
        # here: with the default 1,000, PostgreSQL spends longer on each giant statement.
        return create_engine(
            url, pool_size=10, max_overflow=10, pool_recycle=1800, insertmanyvalues_page_size=200,
            connect_args={"application_name": "reengage"},
        )
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:
        # Manage transactions ourselves so that writers can BEGIN IMMEDIATE (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        # A deferred transaction that reads and then writes fails at once when another
        # process wrote in between; IMMEDIATE makes writers queue on the lock instead.
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


# How long a writer waits for urgent writers queued for the lock before it takes its turn anyway.
GIVE_WAY_SECONDS = 0.25
GIVE_WAY_POLL_SECONDS = 0.001


class WriteLock:
    """Queues SQLite writers of every thread and process on a kernel lock, urgent writers first.

    SQLite's own busy handler polls, sleeping up to 100 ms between tries; a kernel lock hands
    the database to the next writer the moment the last one commits. An urgent writer (a single
    event) holds a shared lock on a second file while it waits; any other writer first waits
    (at most GIVE_WAY_SECONDS) until no one holds it, so the next chunk of a large batch, or of
    processing, in any process goes after the small writes queued meanwhile.
    """

    def __init__(self, path: str):
        self.path = path
        self.urgent_path = f"{path}.urgent"
        self._threads = threading.RLock()
        self._held = threading.local()
        self._fd: int | None = None
        self._pid: int | None = None

    @contextmanager
    def hold(self, urgent: bool = False) -> Iterator[None]:
        nested = getattr(self._held, "depth", 0) > 0
        waiting = self._queue_urgent() if urgent and not nested else None
        if not urgent and not nested:
            self._give_way()
        try:
            with self._threads:
                # A descriptor inherited across fork would share its lock with the parent.
                if self._fd is None or self._pid != os.getpid():
                    self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
                fcntl.flock(self._fd, fcntl.LOCK_EX)
                if waiting is not None:
                    os.close(waiting)
                    waiting = None
                self._held.depth = getattr(self._held, "depth", 0) + 1
                try:
                    yield
                finally:
                    self._held.depth -= 1
                    if not self._held.depth:
                        fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            if waiting is not None:
                os.close(waiting)

    def _queue_urgent(self) -> int:
        # A descriptor of its own: locks of separate opens conflict even between threads of one process.
        waiting = os.open(self.urgent_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(waiting, fcntl.LOCK_SH)
        return waiting

    def _give_way(self) -> None:
        probe = os.open(self.urgent_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + GIVE_WAY_SECONDS
            while True:
                try:
                    fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        return
                    time.sleep(GIVE_WAY_POLL_SECONDS)
        finally:
            os.close(probe)  # closing releases the probe's lock


def init_app(app: Flask) -> None:
    """Attach an engine and session factory to the app; close sessions with the context."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["db"] = sessionmaker(engine, expire_on_commit=False)
    database = engine.url.database
    app.extensions["db_write_lock"] = (
        WriteLock(f"{database}.write-lock") if engine.dialect.name == "sqlite" and database else None
    )
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    """The current app's engine."""
    return current_app.extensions["db"].kw["bind"]


def session() -> Session:
    """The session of the current app context (one per request, job or clock tick)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db"]()
    return g.db_session


@contextmanager
def single_read() -> Iterator[Connection]:
    """A connection for one read that needs no transaction around it. On PostgreSQL the read goes alone, in one
    round trip, where BEGIN, the read and COMMIT take three. SQLite's transaction costs nothing in process, and this
    module begins its transactions itself (make_engine): an autocommit connection would go back to the pool reset to
    the driver's own way."""
    with engine().connect() as connection:
        if connection.dialect.name != "sqlite":
            connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


def revision(name: str) -> ModuleType:
    """The migration module `name` (its file name without `.py`), loaded by path: a later revision builds on what an
    earlier one defined (a revision's name starts with its number, so it cannot be imported by name)."""
    spec = importlib.util.spec_from_file_location(f"revision_{name}", MIGRATIONS / "versions" / f"{name}.py")
    assert spec is not None and spec.loader is not None, name
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reads_side_by_side(reads: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Each of `reads` run, SIDE_BY_SIDE at a time in the order given (longest first packs best), each in an app
    context of its own (its own session and connection) that sees the caller's moment (`as_of`); their results by
    name. Independent reads of one page: the database works on them at once (sqlite3 and the PostgreSQL driver let
    go of the interpreter while it does)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy method

    def run(read: Callable[[], Any]) -> Any:
        with app.app_context():
            return read()

    with ThreadPoolExecutor(SIDE_BY_SIDE, thread_name_prefix="read") as pool:
        futures = {name: pool.submit(contextvars.copy_context().run, run, read) for name, read in reads.items()}
        return {name: future.result() for name, future in futures.items()}


def _close_session(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


@contextmanager
def transaction(urgent: bool = False) -> Iterator[Session]:
    """A write transaction, committed on success and rolled back on error.

    On SQLite an `urgent` one (a few rows a request waits for) takes the write lock before the
    next of the other writers waiting for it.
    """
    db_session = _end_read()
    with write_lock(urgent):
        db_session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        try:
            yield db_session
            db_session.commit()
        except BaseException:
            db_session.rollback()
            raise


@contextmanager
def write_connection(urgent: bool = False) -> Iterator[Connection]:
    """A write transaction of Core statements on a connection of its own, as `transaction` gives a session: for the
    writes a request waits for (intake). The session's begin and commit cost about four times the connection's, and
    the connection is taken from the pool before the write lock and given back after it, so SQLite's lock is held
    for the statements alone (unless the caller holds the lock already: intake's group commit takes its turn first,
    so that requests arriving meanwhile join its group)."""
    _end_read()
    with engine().connect() as connection:
        connection.execution_options(sqlite_begin="IMMEDIATE")
        with write_lock(urgent), connection.begin():
            yield connection


def _end_read() -> Session:
    """The context's session, its transaction (a read, before a write) ended: the write sees what is there now."""
    db_session = session()
    if db_session.in_transaction():
        db_session.commit()
    return db_session


def one_writer() -> bool:
    """Whether the database takes one writer at a time (SQLite's file, held in turn through this app's lock)."""
    return current_app.extensions["db_write_lock"] is not None


def write_lock(urgent: bool) -> AbstractContextManager[None]:
    """This app's SQLite write lock, held in turn (urgent writers first); nothing where there is none (PostgreSQL).
    A thread holding it may open transactions inside (`transaction`, `write_connection`): they take no second turn."""
    lock = current_app.extensions["db_write_lock"]
    return lock.hold(urgent) if lock else nullcontext()


def columns(row: Base) -> dict[str, Any]:
    """A model instance's column values by name (for a schema to dump with extra keys)."""
    return {name: getattr(row, name) for name in row.__table__.columns.keys()}


def constant(value: Any) -> BindParameter[Any]:
    """`value` written into the statement's text, not sent beside it: PostgreSQL plans a statement run again and
    again (psycopg prepares it by its fifth run) once for every run only when a partial index's condition, such as
    `status = 'scheduled'`, can be read in its text; with the value as a parameter it plans each run anew."""
    return literal(value, literal_execute=True)


def insert_new(table):
    """An INSERT of `table` that skips rows clashing with a unique key (ON CONFLICT DO NOTHING), on either backend."""
    dialect = session().get_bind().dialect.name
    return (postgresql_insert if dialect == "postgresql" else sqlite_insert)(table)


T = TypeVar("T")


def retry_on_conflict(work: Callable[[], T], attempts: int = 3) -> T:
    """Run `work()` in a transaction, again when a concurrent writer won a unique race."""
    for attempt in range(attempts):
        try:
            with transaction():
                return work()
        except (IntegrityError, OperationalError) as error:
            if attempt == attempts - 1 or not is_race(error):
                raise
    raise AssertionError("unreachable")


def is_race(error: Exception) -> bool:
    """Whether `error` is a concurrent writer winning a unique race or a deadlock (worth retrying)."""
    text = str(getattr(error, "orig", error)).lower()
    return "unique" in text or "duplicate key" in text or "deadlock" in text


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the migrations shipped with the code."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Migrate the database at `url` to the newest revision."""
    command.upgrade(alembic_config(url), "head")


def upgrade_embedded(url: str, lock_path: Path) -> None:
    """Migrate the embedded database once, even when several workers start together."""
    database = make_url(url).database
    if database and database != ":memory:":
        # Readable by its owner alone: it holds contacts and sealed credentials. SQLite gives its WAL
        # and shared-memory files the same mode.
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            upgrade(url)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
