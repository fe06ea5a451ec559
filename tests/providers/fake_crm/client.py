"""The fake CRM's client: every portal in one dictionary, by API key, so a test can fill and read it."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.errors import ConnectorError
from reengage.connections import Linked
from reengage.links.crm import ClosedDeal, LostDeal, recovered
from reengage.models import Enrollment


@dataclass
class Portal:
    """What one account keeps in the fake CRM."""

    # contact id -> email
    contacts: dict[str, str] = field(default_factory=dict)
    notes: list[tuple[str, str]] = field(default_factory=list)
    properties: dict[str, dict[str, str]] = field(default_factory=dict)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    closed: list[ClosedDeal] = field(default_factory=list)
    lost: dict[str, LostDeal] = field(default_factory=dict)
    callbacks: dict[str, bool] = field(default_factory=dict)
    deals: dict[str, dict[str, str]] = field(default_factory=dict)


PORTALS: dict[str, Portal] = {}


class FakeCRM:
    """A connection's portal, answering as reengage.links.crm.CRM asks."""

    def __init__(self, link: Linked):
        self.portal = PORTALS.get(link.secrets["api_key"])

    def check(self) -> None:
        """Refuse a key that names no portal."""
        if self.portal is None:
            raise ConnectorError("config", "unknown API key")

    def find_contact(self, external_id: str | None, email: str | None) -> str | None:
        """The known id, else the contact with this email."""
        return external_id or next((cid for cid, known in self.portal.contacts.items() if known == email), None)

    def add_note(self, contact_id: str, text: str, at: datetime) -> None:
        """Keep the note."""
        self.portal.notes.append((contact_id, text))

    def writes(self, kind: str) -> bool:
        """Every kind of property is kept."""
        return True

    def update_contact(self, contact_id: str, values: dict[str, str]) -> None:
        """Merge the values into the contact's properties."""
        self.portal.properties.setdefault(contact_id, {}).update(values)

    def update_deal(self, deal_id: str, values: dict[str, str]) -> None:
        """Merge the values into the deal's fields."""
        self.portal.deals.setdefault(deal_id, {}).update(values)

    def create_task(self, contact_id: str | None, title: str, body: str, due: datetime, owner_id: str | None,
                    deal_id: str | None = None) -> str:
        """Keep the task; its id is its position."""
        self.portal.tasks.append({"contact_id": contact_id, "title": title, "deal_id": deal_id})
        return str(len(self.portal.tasks))

    def closed_deals(self, since: str | None, after: str | None) -> tuple[list[ClosedDeal], str | None]:
        """Every closed deal changed after `since`, in one page."""
        return [deal for deal in self.portal.closed if since is None or (deal.modified or "") > since], None

    def lost_deal(self, deal_id: str) -> LostDeal:
        """The lost deal in full."""
        return self.portal.lost[deal_id]

    def complete_workflow(self, callback_id: str, enrollment: Enrollment) -> None:
        """Keep whether the contact came back."""
        self.portal.callbacks[callback_id] = recovered(enrollment)
