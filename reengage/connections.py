"""Connections to SendGrid and HubSpot: stored per account, credentials sealed, their state kept."""

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from connectors.errors import ConnectorError
from connectors.hubspot import HubSpot
from connectors.sendgrid import SendGrid
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


def sendgrid_client(link: Linked) -> SendGrid:
    """The SendGrid client of a connection."""
    return SendGrid(link.secrets["api_key"], link.settings.get("data_residency", "global"),
                    current_app.config["SENDGRID_API_HOST"], current_app.config["CONNECTOR_TIMEOUT_SECONDS"])


def hubspot_client(link: Linked) -> HubSpot:
    """The HubSpot client of a connection."""
    return HubSpot(link.secrets["access_token"], current_app.config["HUBSPOT_API_HOST"],
                   current_app.config["CONNECTOR_TIMEOUT_SECONDS"])


@dataclass(frozen=True)
class Provider:
    """What is stored of a service's connection and how its credentials are tried."""

    key: str
    secrets: tuple[str, ...]
    # The credential without which nothing can be called.
    required: str
    check: Callable[[Linked], Any]
    # URLs the service calls us at: name -> path under the public URL, with the connection's token.
    callbacks: dict[str, str]


PROVIDERS = {provider.key: provider for provider in (
    Provider("sendgrid", ("api_key",), "api_key", lambda link: sendgrid_client(link).check(),
             {"event_webhook_url": "/v1/webhooks/sendgrid/{token}"}),
    Provider("hubspot", ("access_token", "client_secret"), "access_token", lambda link: hubspot_client(link).check(),
             {"webhook_url": "/v1/webhooks/hubspot/{token}", "action_url": "/v1/hubspot/actions/{token}"}),
)}


def find(account_id: int, provider: str) -> Connection | None:
    """The account's connection to `provider`, if any."""
    return db.session().scalar(select(Connection).where(Connection.account_id == account_id,
                                                        Connection.provider == provider))


def linked(account_id: int, provider: str) -> Linked | None:
    """The account's connection with its credentials, for a job about to call the service."""
    return _linked(find(account_id, provider))


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


def save(account_id: int, provider: str, data: dict[str, Any]) -> Connection:
    """Store the connection: settings replaced, credentials given replaced, omitted ones kept; state unchecked."""
    spec = PROVIDERS[provider]
    connection = find(account_id, provider)
    stored = vault.unseal(connection.sealed) if connection else {}
    given = {name: data.pop(name) for name in spec.secrets if name in data}
    merged = {**stored, **given}
    if not merged.get(spec.required):
        raise ApiError(422, "validation_error", f"Invalid input: {spec.required}: Required the first time.",
                       {"fields": [{"field": spec.required, "message": "Required the first time."}]})
    if connection is None:
        connection = Connection(account_id=account_id, provider=provider, token=secrets.token_urlsafe(32), cursor={})
        db.session().add(connection)
    connection.settings, connection.sealed = data, vault.seal(merged)
    connection.status, connection.status_reason, connection.checked_at = "unchecked", None, None
    db.session().flush()
    return connection


def check(connection: Connection) -> Connection:
    """Try the credentials against the service now and keep the outcome."""
    try:
        PROVIDERS[connection.provider].check(_link(connection))
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
    """Record what a call just learned of the credentials (in its own transaction)."""
    with db.transaction() as db_session:
        db_session.execute(update(Connection).where(Connection.id == connection_id).values(
            status=status, status_reason=reason and reason[:500], checked_at=db.utcnow()))
    if status == "broken":
        log.warning("connection %d is broken: %s", connection_id, reason)


def view(connection: Connection) -> dict[str, Any]:
    """The connection as the API shows it: settings, which credentials are set, callback URLs, state."""
    spec = PROVIDERS[connection.provider]
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
