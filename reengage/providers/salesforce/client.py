"""Salesforce as an account's CRM: the connection's client, with Salesforce's names for what the engine asks.

Closed opportunities are read oldest change first from a cursor on `SystemModstamp`; lost ones
(`IsClosed = true AND IsWon = false`) become lost deals with their stage history (OpportunityHistory),
contact roles, account, owner and the configured loss-reason and competitor fields; won ones close a
known win-back. Tasks and notes are Task records; re-engagement fields are written on the contact (or
lead) and the opportunity under the names the connection gives.
"""

from datetime import datetime
from typing import Any

from flask import current_app
from marshmallow import ValidationError
from simple_salesforce import format_soql

from connectors.errors import ConnectorError
from connectors.salesforce import LOGIN, SANDBOX_LOGIN, Credentials, Salesforce
from reengage.connections import Linked
from reengage.intake.schemas import ContactInputSchema
from reengage.links.crm import ClosedDeal, LostDeal
from reengage.models import Enrollment
from reengage.winback import events as winback_events

OPPORTUNITY = ("Id", "Name", "Amount", "CloseDate", "StageName", "IsWon", "SystemModstamp", "Description",
               "OwnerId", "Owner.Name", "Account.Name", "Account.Industry")
HISTORY = "(SELECT StageName, CreatedDate FROM OpportunityHistories ORDER BY CreatedDate ASC)"
ROLES = ("(SELECT ContactId, IsPrimary, Contact.Email, Contact.FirstName, Contact.LastName "
         "FROM OpportunityContactRoles ORDER BY IsPrimary DESC, CreatedDate ASC)")
# Record id prefixes: a lead's fields are written on the lead.
LEAD_PREFIX = "00Q"


class SalesforceCRM:
    """An account's Salesforce org (reengage.links.crm.CRM): its settings and its client."""

    # A SOQL query pages through `nextRecordsUrl` to its end: no cap to query anew past.
    search_cap: int | None = None

    def __init__(self, link: Linked):
        self.settings, found = link.settings, link.secrets
        login = current_app.config["SALESFORCE_LOGIN_URL"] or (SANDBOX_LOGIN if self.settings.get("sandbox") else LOGIN)
        credentials = Credentials(found.get("client_id", ""), found.get("client_secret"), found.get("refresh_token"),
                                  self.settings.get("username"), found.get("private_key"))
        self.client = Salesforce(credentials, login, self.settings.get("api_version") or "59.0",
                                 current_app.config["CONNECTOR_TIMEOUT_SECONDS"],
                                 self.settings.get("api_reserve_percent", 10) / 100)
        named = (self.settings.get(key) for key in ("loss_reason_field", "competitor_field", "currency_field"))
        self.fields = list(dict.fromkeys([*OPPORTUNITY, *(name for name in named if name)]))

    def check(self) -> None:
        """Log in and read one opportunity."""
        self.client.check()

    def find_contact(self, external_id: str | None, email: str | None) -> str | None:
        """The Salesforce id we know, else the contact (else the open lead) with this email."""
        if external_id or not email:
            return external_id
        for soql in ("SELECT Id FROM Contact WHERE Email = {} LIMIT 1",
                     "SELECT Id FROM Lead WHERE Email = {} AND IsConverted = false LIMIT 1"):
            records = self.client.query(format_soql(soql, email))["records"]
            if records:
                return str(records[0]["Id"])
        return None

    def add_note(self, contact_id: str, text: str, at: datetime) -> None:
        """A completed Task on the contact's activity history."""
        self.client.create("Task", {"WhoId": contact_id, "Subject": text[:255], "Description": text,
                                    "Status": "Completed", "ActivityDate": at.date().isoformat()})

    def writes(self, kind: str) -> bool:
        """Whether the connection names a contact field for this kind."""
        return bool((self.settings.get("contact_fields") or {}).get(kind))

    def update_contact(self, contact_id: str, values: dict[str, str]) -> None:
        """Write the values under the field names the connection gives each kind, on the contact or lead."""
        written = _named(self.settings.get("contact_fields"), values)
        if written:
            self.client.update("Lead" if contact_id.startswith(LEAD_PREFIX) else "Contact", contact_id, written)

    def update_deal(self, deal_id: str, values: dict[str, str]) -> None:
        """Write win-back values on the opportunity under the field names the connection gives each kind."""
        written = _named(self.settings.get("opportunity_fields"), values)
        if written:
            self.client.update("Opportunity", deal_id, written)

    def create_task(self, contact_id: str | None, title: str, body: str, due: datetime, owner_id: str | None,
                    deal_id: str | None = None) -> str:
        """A Task for the owner (else the connection's task owner) on the contact and/or opportunity."""
        task = {"Subject": title[:255], "Description": body[:32000], "ActivityDate": due.date().isoformat(),
                "Status": "Not Started", "Priority": "High"}
        owner = owner_id or self.settings.get("task_owner_id")
        task.update({name: value for name, value in (("WhoId", contact_id), ("WhatId", deal_id), ("OwnerId", owner))
                     if value})
        return self.client.create("Task", task)

    def closed_deals(self, since: str | None, after: str | None) -> tuple[list[ClosedDeal], str | None]:
        """A page of closed opportunities changed since `since`, oldest change first; and the next page's URL."""
        if after:
            page = self.client.query_more(after)
        else:
            changed = winback_events.parse_time(since)
            # SOQL takes whole seconds: from the cursor's second on; what is read again is recorded once.
            where = f" AND SystemModstamp >= {changed.strftime('%Y-%m-%dT%H:%M:%SZ')}" if changed else ""
            page = self.client.query("SELECT Id, IsWon, CloseDate, SystemModstamp FROM Opportunity WHERE IsClosed = "
                                     f"true{where} ORDER BY SystemModstamp ASC, Id ASC")
        deals = [ClosedDeal(str(r["Id"]), bool(r["IsWon"]), r.get("CloseDate"), r.get("SystemModstamp"))
                 for r in page["records"]]
        return deals, None if page.get("done", True) else page.get("nextRecordsUrl")

    def lost_deal(self, deal_id: str) -> LostDeal:
        """The opportunity with its stages, account, owner and contacts, as win-back records it."""
        soql = f"SELECT {', '.join(self.fields)}, {HISTORY}, {ROLES} FROM Opportunity WHERE Id = {{}}"
        [found] = self.client.query(format_soql(soql, deal_id))["records"] or [None]
        if found is None:
            raise ConnectorError("permanent", f"Salesforce has no opportunity {deal_id}")
        people = [_person(role["ContactId"], role.get("Contact")) for role in _rows(found, "OpportunityContactRoles")]
        if not people:
            people = self._converted_lead(deal_id)
        account, reason = found.get("Account") or {}, self._field(found, "loss_reason_field")
        data = {"external_id": deal_id, "name": found.get("Name") or f"Salesforce opportunity {deal_id}",
                "company": account.get("Name"), "industry": account.get("Industry"), "owner_id": found.get("OwnerId"),
                "owner": (found.get("Owner") or {}).get("Name"), "amount": winback_events.number(found.get("Amount")),
                "currency": self._field(found, "currency_field"), "loss_reason": reason,
                "competitor": self._field(found, "competitor_field"), "notes": found.get("Description"),
                "stages": [{"stage": row["StageName"], "at": row["CreatedDate"]}
                           for row in _rows(found, "OpportunityHistories")],
                "contacts": people[:20], "lost_at": winback_events.parse_time(found.get("CloseDate"))}
        if not people:
            return LostDeal(deal_id, data, None)
        details = {"deal_id": deal_id, "dealname": data["name"], "amount": found.get("Amount"),
                   "closedate": found.get("CloseDate"), "stage": found.get("StageName"), "loss_reason": reason or "",
                   "competitor": data["competitor"], "company": data["company"], "industry": data["industry"],
                   "owner": data["owner"], "notes": data["notes"]}
        details = {key: value[:1000] if isinstance(value, str) else value for key, value in details.items()
                   if value not in (None, "")}
        return LostDeal(deal_id, data, _valid(people[0]), details,
                        f"salesforce-opportunity-lost-{deal_id}-{found.get('CloseDate') or ''}")

    def complete_workflow(self, callback_id: str, enrollment: Enrollment) -> None:
        """Salesforce flows do not wait on our callbacks."""
        raise ConnectorError("permanent", "Salesforce has no workflow callbacks to complete")

    def _converted_lead(self, deal_id: str) -> list[dict[str, Any]]:
        """The lead converted into this opportunity, as its contact (the converted contact when there is one)."""
        soql = ("SELECT Id, ConvertedContactId, Email, FirstName, LastName FROM Lead "
                "WHERE ConvertedOpportunityId = {} LIMIT 1")
        return [_person(lead.get("ConvertedContactId") or lead["Id"], lead)
                for lead in self.client.query(format_soql(soql, deal_id))["records"]]

    def _field(self, record: dict[str, Any], setting: str) -> str | None:
        name = self.settings.get(setting)
        value = record.get(name) if name else None
        return str(value) if value not in (None, "") else None


def _rows(record: dict[str, Any], relationship: str) -> list[dict[str, Any]]:
    """A subquery's records (Salesforce answers null for none)."""
    return list((record.get(relationship) or {}).get("records") or [])


def _person(record_id: str, found: dict[str, Any] | None) -> dict[str, Any]:
    """A contact input for a Salesforce contact or lead."""
    found = found or {}
    person = {"salesforce_id": str(record_id), "email": (found.get("Email") or "").lower() or None,
              "first_name": found.get("FirstName"), "last_name": found.get("LastName")}
    return {key: value for key, value in person.items() if value}


def _valid(person: dict[str, Any]) -> dict[str, Any]:
    """The person as an event's contact; an email intake would refuse is left out rather than lose the event."""
    try:
        ContactInputSchema().load(person)
    except ValidationError:
        return {"salesforce_id": person["salesforce_id"]}
    return person


def _named(names: dict[str, str] | None, values: dict[str, str]) -> dict[str, str]:
    """The values under the field names given for their kinds; kinds without a name are left out."""
    return {names[kind]: value for kind, value in values.items() if names and names.get(kind)}
