"""What the engine asks of a CRM, whichever one an account connected."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from reengage.models import Enrollment


@dataclass(frozen=True)
class ClosedDeal:
    """A deal that reached a closed stage: its CRM id, whether it was won, and the cursor value it moved."""

    id: str
    won: bool
    closed_at: str | None
    # The CRM's modification mark, the cursor of the next sync.
    modified: str | None


@dataclass(frozen=True)
class LostDeal:
    """A closed-lost deal in full: what win-back records, and the event of its first contact (if it has one)."""

    id: str
    # Fields of a lost deal as reengage.winback.deals.upsert takes them.
    deal: dict[str, Any]
    # The `deal.closed_lost` event: its contact input, properties and idempotency key; None without a contact.
    contact: dict[str, Any] | None
    details: dict[str, Any] = field(default_factory=dict)
    key: str = ""


class CRM(Protocol):
    """A connected CRM's client; each call may raise connectors.errors.ConnectorError."""

    # The most results one query of closed deals can page through (None: no limit); past it, query anew.
    search_cap: int | None

    def check(self) -> None:
        """Try the credentials once."""

    def find_contact(self, external_id: str | None, email: str | None) -> str | None:
        """The CRM's id of the contact: the one we know, else the one with this email; None when it has none."""

    def add_note(self, contact_id: str, text: str, at: datetime) -> None:
        """Put a note on the contact's timeline."""

    def writes(self, kind: str) -> bool:
        """Whether the connection keeps this kind of contact property (status, phase, last_touch, scenario)."""

    def update_contact(self, contact_id: str, values: dict[str, str]) -> None:
        """Write re-engagement properties of the contact, by kind; kinds the connection does not keep are left."""

    def update_deal(self, deal_id: str, values: dict[str, str]) -> None:
        """Write win-back values of the deal, by kind (status, priority, score, window); kinds not kept are left."""

    def create_task(self, contact_id: str | None, title: str, body: str, due: datetime, owner_id: str | None,
                    deal_id: str | None = None) -> str:
        """Create a task on the contact and/or deal for its owner; answer the task's id."""

    def closed_deals(self, since: str | None, after: str | None) -> tuple[list[ClosedDeal], str | None]:
        """One page of deals closed (won or lost) and changed at or after the mark `since`, oldest change first; and
        the next page of the same query (None after the last)."""

    def lost_deal(self, deal_id: str) -> LostDeal:
        """A closed-lost deal with its company, owner, stages and contacts."""

    def complete_workflow(self, callback_id: str, enrollment: Enrollment) -> None:
        """Let the CRM workflow waiting on this enrollment go on, with its outcome."""


def recovered(enrollment: Enrollment) -> bool:
    """Whether a CRM is told the enrollment's contact came back (it converted)."""
    return enrollment.status == "exited" and enrollment.exit_reason == "converted"
