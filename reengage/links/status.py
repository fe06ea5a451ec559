"""What the engine asks of a service that reports outside services' states (Atomic's Company Search)."""

from typing import Protocol


class ServiceStatus(Protocol):
    """A connected status source's client; each call may raise connectors.errors.ConnectorError."""

    def check(self) -> None:
        """Try the credentials once."""

    def status(self, service: str) -> str | None:
        """`operational`, `maintenance`, or None when the source does not know the service."""
