"""What the engine asks of an email provider, whichever one an account connected."""

from typing import Any, Protocol


class Email(Protocol):
    """A composed email about to go (reengage.channels.base.Outgoing is one)."""

    id: int
    account_id: int
    enrollment_id: int
    flow_key: str
    phase: int
    content: dict[str, Any]


class EmailSender(Protocol):
    """A connected email provider's client; each call may raise connectors.errors.ConnectorError."""

    def check(self) -> None:
        """Try the credentials once."""

    def send(self, email: Email) -> str | None:
        """Send one composed email; answer the provider's id for it."""
