"""What every channel shares: the message going out, the outcome of a delivery, the call to action."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Outgoing:
    """A message that passed its send-time checks, with its composed content."""

    id: int
    account_id: int
    enrollment_id: int
    contact_id: int
    flow_key: str
    phase: int
    step: str
    content: dict[str, Any]


@dataclass(frozen=True)
class Delivery:
    """Where a message went and the provider's id for it."""

    provider: str
    provider_id: str | None = None


def cta(step: dict, render) -> tuple[str, str]:
    """(label, url) of the step's call to action, rendered; empty when it has none."""
    if not step.get("cta"):
        return "", ""
    return step["cta"]["label"], render(step["cta"]["url"])
