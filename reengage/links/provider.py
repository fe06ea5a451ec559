"""A provider's declaration, and the registry of them the app was built with."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

KINDS = ("crm", "email", "status")
EXTENSION = "reengage.providers"


@dataclass(frozen=True)
class Provider:
    """One outside service: its credentials, its HTTP surface, and how a connection becomes a client."""

    key: str
    # What the engine uses it for: "crm" (reengage.links.crm.CRM), "email" (reengage.links.email.EmailSender) or
    # "status" (reengage.links.status.ServiceStatus).
    kind: str
    name: str
    secrets: tuple[str, ...]
    # The credential without which nothing can be called.
    required: str
    # The connection as callers set it and as the API shows it.
    input_schema: type
    output_schema: type
    # Routes the service calls (webhooks), or None.
    blueprint: Any
    # URLs the service calls us at: name -> path under the public URL, with the connection's token.
    callbacks: dict[str, str]
    # A connection's client (a `reengage.connections.Linked` in, a CRM or EmailSender out).
    client: Callable[[Any], Any]

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"provider {self.key}: kind must be one of {', '.join(KINDS)}, not {self.kind!r}")

    def check(self, link: Any) -> None:
        """Try the link's credentials once; a ConnectorError says what was wrong."""
        self.client(link).check()


def init_app(app: Flask, providers: dict[str, Provider]) -> None:
    """Make `providers` the services this app connects to."""
    app.extensions[EXTENSION] = dict(providers)


def registered() -> dict[str, Provider]:
    """The providers of the current app, by key."""
    return current_app.extensions[EXTENSION]


def of_kind(kind: str) -> list[str]:
    """Keys of the current app's providers of one kind, in registry order."""
    return [key for key, provider in registered().items() if provider.kind == kind]
