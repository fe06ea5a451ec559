"""HubSpot as an account's CRM: the connection's client, with HubSpot's names for what the engine asks."""

from datetime import datetime
from functools import cached_property

from flask import current_app

from connectors.hubspot import SEARCH_CAP, HubSpot
from reengage.connections import Linked
from reengage.links.crm import ClosedDeal, LostDeal
from reengage.models import Enrollment
from reengage.providers.hubspot import inbound
from reengage.winback import events as winback_events

DEAL_PROPERTIES = ("dealname", "amount", "dealstage", "pipeline", "closedate", "hs_lastmodifieddate",
                   "hubspot_owner_id", "hs_arr", "deal_currency_code", "description")


class HubSpotCRM:
    """An account's HubSpot portal (reengage.links.crm.CRM): its settings and its client."""

    search_cap: int | None = SEARCH_CAP

    def __init__(self, link: Linked):
        self.settings = link.settings
        self.client = HubSpot(link.secrets["access_token"], current_app.config["HUBSPOT_API_HOST"],
                              current_app.config["CONNECTOR_TIMEOUT_SECONDS"])
        self.reason_property = link.settings.get("loss_reason_property", "closed_lost_reason")
        competitor = link.settings.get("competitor_property")
        self.deal_properties = [*DEAL_PROPERTIES, self.reason_property, *((competitor,) if competitor else ())]
        # Owner names already read in this run: many deals share an owner.
        self.owners: dict[str, str | None] = {}

    def check(self) -> None:
        """Try the access token once."""
        self.client.check()

    def find_contact(self, external_id: str | None, email: str | None) -> str | None:
        """The HubSpot id we know, else the contact HubSpot has with this email."""
        return external_id or (self.client.contact_id_by_email(email) if email else None)

    def add_note(self, contact_id: str, text: str, at: datetime) -> None:
        """A note on the contact's timeline."""
        self.client.create_note(contact_id, text, at)

    def writes(self, kind: str) -> bool:
        """Whether the connection names a contact property for this kind."""
        return bool((self.settings.get("properties") or {}).get(kind))

    def update_contact(self, contact_id: str, values: dict[str, str]) -> None:
        """Write the values under the property names the connection gives each kind."""
        names = self.settings.get("properties") or {}
        written = {names[kind]: value for kind, value in values.items() if names.get(kind)}
        if written:
            self.client.update_contact(contact_id, written)

    def update_deal(self, deal_id: str, values: dict[str, str]) -> None:
        """HubSpot keeps none of our deal values: its task holds the draft and the deal's status."""

    def create_task(self, contact_id: str | None, title: str, body: str, due: datetime, owner_id: str | None,
                    deal_id: str | None = None) -> str:
        """A task for the owner on the contact and/or deal."""
        return self.client.create_task(contact_id, title, body, due, owner_id, deal_id)

    @cached_property
    def stages(self) -> tuple[list[str], list[str]]:
        """Ids of the closed stages of every deal pipeline: (lost, won)."""
        return self.client.closed_stages()

    def closed_deals(self, since: str | None, after: str | None) -> tuple[list[ClosedDeal], str | None]:
        """A page of deals in a closed stage modified at or after `since`, oldest change first."""
        lost, won = self.stages
        deals, after = self.client.deals_in_stages([*lost, *won], since, self.deal_properties, after)
        return [ClosedDeal(deal["id"], deal["properties"].get("dealstage") in won,
                           deal["properties"].get("closedate"), deal["properties"].get("hs_lastmodifieddate"))
                for deal in deals], after

    def lost_deal(self, deal_id: str) -> LostDeal:
        """The deal with its stage history, company, owner's name and contacts, as win-back records it."""
        deal = self.client.deal(deal_id, self.deal_properties)
        found = deal["properties"]
        company = self.client.company(deal["company_ids"][0]) if deal["company_ids"] else {}
        owner_id = found.get("hubspot_owner_id")
        if owner_id and str(owner_id).isdigit() and owner_id not in self.owners:
            self.owners[owner_id] = self.client.owner_name(owner_id)
        data = {"external_id": deal_id, "name": found.get("dealname") or f"HubSpot deal {deal_id}",
                "company": company.get("name"), "industry": company.get("industry"), "owner_id": owner_id,
                "owner": self.owners.get(owner_id), "amount": winback_events.number(found.get("amount")),
                "arr": winback_events.number(found.get("hs_arr")), "currency": found.get("deal_currency_code"),
                "loss_reason": found.get(self.reason_property) or None, "notes": found.get("description"),
                "competitor": found.get(self.settings.get("competitor_property") or "") or None,
                "stages": deal["stages"], "contacts": [{"hubspot_id": cid} for cid in deal["contact_ids"][:20]]}
        lost_at = winback_events.parse_time(found.get("closedate"))
        if lost_at is not None:
            data["lost_at"] = lost_at
        if not deal["contact_ids"]:
            return LostDeal(deal_id, data, None)
        details = {name: found.get(name) for name in DEAL_PROPERTIES if found.get(name) not in (None, "")}
        details.update(deal_id=deal_id, loss_reason=found.get(self.reason_property) or "")
        return LostDeal(deal_id, data, {"hubspot_id": deal["contact_ids"][0]}, inbound.bounded(details),
                        f"hubspot-deal-lost-{deal_id}-{found.get('closedate') or ''}")

    def complete_workflow(self, callback_id: str, enrollment: Enrollment) -> None:
        """Complete our custom action's callback with the enrollment's outcome."""
        self.client.complete_callback(callback_id, {**inbound.outcome(enrollment), "hs_execution_state": "SUCCESS"})

