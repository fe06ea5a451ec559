"""Connections to outside services: stored per account, credentials sealed, their state kept.

Which services there are is the registry the app was built with (reengage.links.provider).
"""

import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from connectors.errors import ConnectorError
from reengage.links.provider import of_kind, registered
from reengage.models import Connection
from reengage.platform import db, vault
from reengage.platform.errors import ApiError

log = logging.getLogger(__name__)


@dataclass
class Linked:
    """A connection as jobs use it: settings and unsealed credentials; `status` follows what its calls learn."""

    id: int
    account_id: int
    provider: str
    token: str
    settings: dict[str, Any]
    secrets: dict[str, Any]
    status: str
    status_reason: str | None
    cursor: dict[str, Any]


@dataclass
class _Reused:
    """Connections and clients a job built once, and the connection states its sending threads learned."""

    owner: int
    links: dict[tuple[int, str], Linked | None] = field(default_factory=dict)
    clients: dict[int, Any] = field(default_factory=dict)
    marks: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_reused: ContextVar[_Reused | None] = ContextVar("reengage_reused_connections", default=None)


@contextmanager
def reused() -> Iterator[None]:
    """Within the block, each account's connection is read (and its credentials unsealed) once and its client
    built once; calls made on other threads (parallel sends) leave what they learn of the connection's state
    to be recorded by this thread, when the block ends."""
    scope = _Reused(threading.get_ident())
    token = _reused.set(scope)
    try:
        yield
    finally:
        _reused.reset(token)
        for connection_id, (status, reason) in scope.marks.items():
            mark(connection_id, status, reason)


def _cached(key: tuple[int, str], load: Callable[[], Linked | None]) -> Linked | None:
    scope = _reused.get()
    if scope is None:
        return load()
    if key not in scope.links:
        scope.links[key] = load()
    return scope.links[key]


def client(link: Linked) -> Any:
    """The client of a connection: a reengage.links.crm.CRM or reengage.links.email.EmailSender, by its kind."""
    scope = _reused.get()
    if scope is None:
        return registered()[link.provider].client(link)
    with scope.lock:
        if link.id not in scope.clients:
            scope.clients[link.id] = registered()[link.provider].client(link)
        return scope.clients[link.id]


def find(account_id: int, provider: str) -> Connection | None:
    """The account's connection to `provider`, if any."""
    return db.session().scalar(select(Connection).where(Connection.account_id == account_id,
                                                        Connection.provider == provider))


def linked(account_id: int, provider: str) -> Linked | None:
    """The account's connection with its credentials, for a job about to call the service."""
    return _cached((account_id, provider), lambda: _linked(find(account_id, provider)))


def linked_kind(account_id: int, kind: str) -> Linked | None:
    """The account's connection to a service of this kind ("crm", "email"), the registry's first if several."""
    def load() -> Linked | None:
        keys = of_kind(kind)
        found = {c.provider: c for c in db.session().scalars(select(Connection).where(
            Connection.account_id == account_id, Connection.provider.in_(keys)))} if keys else {}
        return next((_linked(found[key]) for key in keys if key in found), None)

    return _cached((account_id, f"kind:{kind}"), load)


def by_token(provider: str, token: str) -> Linked | None:
    """The connection a webhook URL's token names."""
    return _linked(db.session().scalar(select(Connection).where(Connection.token == token,
                                                                Connection.provider == provider)))


def _linked(connection: Connection | None) -> Linked | None:
    return None if connection is None else _link(connection)


def _link(connection: Connection) -> Linked:
    return Linked(connection.id, connection.account_id, connection.provider, connection.token,
                  dict(connection.settings or {}), vault.unseal(connection.sealed), connection.status,
                  connection.status_reason, dict(connection.cursor or {}))


def save(account_id: int, key: str, data: dict[str, Any]) -> Connection:
    """Store the connection: settings replaced, credentials given replaced, omitted ones kept; state unchecked."""
    spec = registered()[key]
    connection = find(account_id, key)
    stored = vault.unseal(connection.sealed) if connection else {}
    given = {name: data.pop(name) for name in spec.secrets if name in data}
    merged = {**stored, **given}
    if not merged.get(spec.required):
        raise ApiError(422, "validation_error", f"Invalid input: {spec.required}: Required the first time.",
                       {"fields": [{"field": spec.required, "message": "Required the first time."}]})
    if connection is None:
        connection = Connection(account_id=account_id, provider=key, token=secrets.token_urlsafe(32), cursor={})
        db.session().add(connection)
    connection.settings, connection.sealed = data, vault.seal(merged)
    connection.status, connection.status_reason, connection.checked_at = "unchecked", None, None
    db.session().flush()
    return connection


def check(connection: Connection) -> Connection:
    """Try the credentials against the service now and keep the outcome."""
    try:
        registered()[connection.provider].check(_link(connection))
    except ConnectorError as error:
        if error.kind != "config":
            # The service or the network failed, not the credentials: say so without judging them.
            raise ApiError(502, "provider_unavailable", f"Could not check the credentials: {error.message}") from None
        connection.status, connection.status_reason = "broken", error.message[:500]
    except vault.SealedError as error:
        connection.status, connection.status_reason = "broken", str(error)
    else:
        connection.status, connection.status_reason = "ok", None
    connection.checked_at = db.utcnow()
    return connection


def mark(connection_id: int, status: str, reason: str | None = None) -> None:
    """Record what a call just learned of the credentials (in its own transaction, or when a reuse block ends)."""
    scope = _reused.get()
    if scope is not None and scope.owner != threading.get_ident():
        # A sending thread shares no database session: the thread that opened the block records it.
        with scope.lock:
            scope.marks[connection_id] = (status, reason)
        if status == "broken":
            log.warning("connection %d is broken: %s", connection_id, reason)
        return
    with db.transaction() as db_session:
        db_session.execute(update(Connection).where(Connection.id == connection_id).values(
            status=status, status_reason=reason and reason[:500], checked_at=db.utcnow()))
    if status == "broken":
        log.warning("connection %d is broken: %s", connection_id, reason)


def view(connection: Connection) -> dict[str, Any]:
    """The connection as the API shows it: settings, which credentials are set, callback URLs, state."""
    spec = registered()[connection.provider]
    try:
        present = vault.unseal(connection.sealed)
    except vault.SealedError:
        present = {}
    shown: dict[str, Any] = {**connection.settings, **{f"{name}_set": bool(present.get(name)) for name in spec.secrets}}
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    shown.update({name: base + path.format(token=connection.token) for name, path in spec.callbacks.items()})
    for name in ("status", "status_reason", "checked_at", "updated_at"):
        shown[name] = getattr(connection, name)
    return shown


def call(link: Linked, work: Callable[[], Any]) -> Any:
    """Run `work` (calls on the link's client); a refused credential marks the connection broken."""
    if link.status == "broken":
        raise ConnectorError("config", f"the {link.provider} connection is broken ({link.status_reason}); fix it "
                                       f"with PUT /v1/connections/{link.provider}")
    try:
        result = work()
    except ConnectorError as error:
        if error.kind == "config":
            # Later calls on this link fail at once, without another refused request.
            link.status, link.status_reason = "broken", error.message
            mark(link.id, "broken", error.message)
        raise
    if link.status != "ok":
        link.status = "ok"
        mark(link.id, "ok")
    return result
