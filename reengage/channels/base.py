"""What every channel shares: its contract, the message going out, the outcome of a delivery, the call to action."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reengage.models import Contact

# What becomes of a message cut off while sending (a worker killed mid-send), by channel:
# resend: nothing left the server before its result was recorded, so it simply goes again;
# confirm: the provider reports what it took (an email's events): wait for that, then send again only if nothing came;
# fail: nothing would tell whether it went, so it fails rather than risk going twice.
INTERRUPTED = ("resend", "confirm", "fail")

# A step of a flow as stored (reengage.schemas.flow.StepSchema), or a message written in an action call.
Step = dict[str, Any]


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


@dataclass(frozen=True, eq=False)
class Channel:
    """A channel a step can go out on: what its steps need, and how a message is composed and delivered."""

    key: str
    # How an error names one of its messages ("An email").
    named: str
    # Why a step on this channel is incomplete, as (field, message), or None.
    incomplete: Callable[[Step], tuple[str, str] | None]
    # The consent (and suppression) channel a step needs, if any.
    consent: Callable[[Step], str | None]
    # Why the contact cannot get the step, or None.
    unreachable: Callable[[Contact, Step], str | None]
    compose: Callable[[Step, dict[str, Any]], dict[str, Any]]
    deliver: Callable[[Outgoing], Delivery]
    # Whether its messages need a subject (an email's, a task's title) when no SendGrid template writes one.
    subject: bool = False
    # Whether a step may name a SendGrid dynamic template instead of a subject and body.
    templates: bool = False
    # Whether a step takes a delivery hint (how a platform should deliver it: sms, slack...).
    hints: bool = False
    # Whether the send-phase-message action may carry a message written in the call on it.
    written: bool = False
    # What becomes of a message of this channel cut off while sending (one of INTERRUPTED).
    interrupted: str = "fail"
    # Whether the account's messages on this channel stay inside this server (an outbox, a publication), so
    # that sending one has no effect until its result is recorded.
    local: Callable[[int], bool] = lambda account_id: False
    # The provider the account's messages on this channel go through (its connection read now, for the sends to
    # reuse), or None when none is connected: which SEND_CONCURRENCY limit its sends share.
    provider: Callable[[int], str | None] = lambda account_id: None


def cta(step: Step, render: Callable[[str, str], str]) -> tuple[str, str]:
    """(label, url) of the step's call to action, rendered; empty when it has none."""
    if not step.get("cta"):
        return "", ""
    return step["cta"]["label"], render(step["cta"]["url"], "cta.url")
