"""HubSpot through the official SDK: contacts, notes, tasks, deals, pipelines, workflow callbacks.

Thin: each method is one call (or one page), answers plain data, and turns the SDK's errors into
ConnectorError. The `X-HubSpot-RateLimit-*` headers of every answer are read: when none of the
interval's requests remain, the next call waits for the interval to pass.
"""

import json
import time
from datetime import datetime
from typing import Any

from hubspot import HubSpot as Sdk
from hubspot.crm.contacts import Filter, FilterGroup, PublicObjectSearchRequest, SimplePublicObjectInput
from hubspot.crm.objects.notes import SimplePublicObjectInputForCreate
from urllib3.exceptions import HTTPError as TransportError

from connectors.errors import ConnectorError, kind_of, retry_after

# Association type ids HubSpot defines: a note to a contact, a task to a contact, a task to a deal.
NOTE_TO_CONTACT, TASK_TO_CONTACT, TASK_TO_DEAL = 202, 204, 216
DEFAULT_HOST = "https://api.hubapi.com"
# HubSpot's current (date-versioned) automation actions API; /automation/v4/actions is its legacy version.
ACTIONS_VERSION = "2026-03"
DEFINITIONS_PATH = f"/automation/actions/{ACTIONS_VERSION}/{{appId}}"
CALLBACK_PATH = f"/automation/actions/callbacks/{ACTIONS_VERSION}/{{callbackId}}/complete"
# HubSpot's search API pages through at most this many results of one query (then answers 400).
SEARCH_CAP = 10_000
# Waiting longer than this for the rate limit's interval is left to the job's retry.
MAX_PAUSE_SECONDS = 10.0


class HubSpot:
    """One portal's private app token (or `host`, a local stand-in)."""

    def __init__(self, access_token: str, host: str | None = None, timeout: float = 10.0):
        self._sdk = Sdk(access_token=access_token, host=host or DEFAULT_HOST)
        self._timeout = timeout
        self._resume_at = 0.0

    def check(self) -> None:
        """Raise unless the token can read contacts (the cheapest call that needs it)."""
        self._call(self._sdk.crm.contacts.basic_api.get_page_with_http_info, limit=1)

    def update_contact(self, contact_id: str, properties: dict[str, str]) -> None:
        """Write `properties` on the contact."""
        self._call(self._sdk.crm.contacts.basic_api.update_with_http_info, contact_id,
                   SimplePublicObjectInput(properties=properties))

    def contact_id_by_email(self, email: str) -> str | None:
        """The id of the contact with this email, if HubSpot has one."""
        search = PublicObjectSearchRequest(filter_groups=[FilterGroup(filters=[
            Filter(property_name="email", operator="EQ", value=email)])], properties=["email"], limit=1)
        found = self._call(self._sdk.crm.contacts.search_api.do_search_with_http_info, search)
        return found.results[0].id if found.results else None

    def create_note(self, contact_id: str, body: str, at: datetime) -> str:
        """A note on the contact's timeline; answers its id."""
        return self._create(self._sdk.crm.objects.notes.basic_api, [(contact_id, NOTE_TO_CONTACT)],
                            {"hs_note_body": body, "hs_timestamp": _millis(at)})

    def create_task(self, contact_id: str | None, subject: str, body: str, due: datetime, owner_id: str | None,
                    deal_id: str | None = None) -> str:
        """A to-do for the contact's owner (or `owner_id`) on the contact and/or the deal; answers its id."""
        properties = {"hs_task_subject": subject, "hs_task_body": body, "hs_timestamp": _millis(due),
                      "hs_task_status": "NOT_STARTED", "hs_task_priority": "HIGH", "hs_task_type": "TODO"}
        if owner_id:
            properties["hubspot_owner_id"] = owner_id
        targets = [(record, kind) for record, kind in ((contact_id, TASK_TO_CONTACT), (deal_id, TASK_TO_DEAL))
                   if record]
        return self._create(self._sdk.crm.objects.tasks.basic_api, targets, properties)

    def closed_stages(self) -> tuple[list[str], list[str]]:
        """Ids of every deal pipeline's closed stages: (lost ones, probability 0; won ones, probability 1)."""
        pipelines = self._call(self._sdk.crm.pipelines.pipelines_api.get_all_with_http_info, "deals")
        closed = [(stage.id, float((stage.metadata or {}).get("probability") or 0))
                  for pipeline in pipelines.results for stage in pipeline.stages
                  if str((stage.metadata or {}).get("isClosed")).lower() == "true"]
        return [sid for sid, chance in closed if chance == 0.0], [sid for sid, chance in closed if chance == 1.0]

    def deal(self, deal_id: str, properties: list[str]) -> dict[str, Any]:
        """One deal: its properties, its history of stages (oldest first), its contact and company ids."""
        found = self._call(self._sdk.crm.deals.basic_api.get_by_id_with_http_info, deal_id, properties=properties,
                           properties_with_history=["dealstage"], associations=["contacts", "companies"])
        history = (found.properties_with_history or {}).get("dealstage") or []
        stages = sorted(({"stage": item.value, "at": _iso(item.timestamp)} for item in history),
                        key=lambda stage: stage["at"])
        linked = found.associations or {}
        ids = {kind: [str(item.id) for item in (linked[kind].results if kind in linked else [])]
               for kind in ("contacts", "companies")}
        return {"id": found.id, "properties": dict(found.properties or {}), "stages": stages,
                "contact_ids": list(dict.fromkeys(ids["contacts"])), "company_ids": ids["companies"]}

    def company(self, company_id: str) -> dict[str, Any]:
        """A company's name and industry."""
        found = self._call(self._sdk.crm.companies.basic_api.get_by_id_with_http_info, company_id,
                           properties=["name", "industry"])
        return dict(found.properties or {})

    def owner_name(self, owner_id: str) -> str | None:
        """A deal owner's name (else email)."""
        found = self._call(self._sdk.crm.owners.owners_api.get_by_id_with_http_info, int(owner_id))
        name = " ".join(part for part in (found.first_name, found.last_name) if part)
        return name or found.email

    def deals_in_stages(self, stage_ids: list[str], modified_after: str | None, properties: list[str],
                        after: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """One page of deals in `stage_ids` modified at or after `modified_after`, oldest change first; and the
        next page."""
        filters = [Filter(property_name="dealstage", operator="IN", values=stage_ids)]
        if modified_after:
            filters.append(Filter(property_name="hs_lastmodifieddate", operator="GTE", value=modified_after))
        search = PublicObjectSearchRequest(
            filter_groups=[FilterGroup(filters=filters)], limit=100, after=after, properties=properties,
            sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}])
        found = self._call(self._sdk.crm.deals.search_api.do_search_with_http_info, search)
        deals = [{"id": deal.id, "properties": dict(deal.properties or {})} for deal in found.results]
        paging = found.paging
        return deals, paging.next.after if paging and paging.next else None

    def complete_callback(self, callback_id: str, output_fields: dict[str, Any]) -> None:
        """Let a workflow that waits on our action go on, with `output_fields`."""
        # The SDK's own client and credentials, on the current API version's path.
        api = self._sdk.automation.actions.callbacks_api.api_client
        self._call(api.call_api, CALLBACK_PATH, "POST", {"callbackId": callback_id},
                   header_params={"Accept": "*/*", "Content-Type": "application/json"},
                   body={"outputFields": output_fields}, response_types_map={}, auth_settings=["oauth2"],
                   _return_http_data_only=False)

    def _create(self, api, targets: list[tuple[str, int]], properties: dict[str, str]) -> str:
        body = SimplePublicObjectInputForCreate(properties=properties, associations=[{
            "to": {"id": record_id},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": association_type}]}
            for record_id, association_type in targets])
        return self._call(api.create_with_http_info, body).id

    def _call(self, method, *args, **kwargs):
        pause = self._resume_at - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        try:
            data, _status, headers = method(*args, _request_timeout=self._timeout, **kwargs)
        except TransportError as error:
            raise ConnectorError("transient", f"HubSpot could not be reached: {type(error).__name__}") from None
        except Exception as error:
            if not hasattr(error, "status") or not hasattr(error, "body"):
                raise
            raise _error(error) from None
        self._note_limits(headers or {})
        return data

    def _note_limits(self, headers) -> None:
        remaining = headers.get("X-HubSpot-RateLimit-Remaining")
        interval = headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
        if remaining is not None and interval and str(remaining).isdigit() and int(remaining) <= 0:
            self._resume_at = time.monotonic() + min(MAX_PAUSE_SECONDS, int(interval) / 1000)


def _error(error) -> ConnectorError:
    """HubSpot's error body says what went wrong: `{"status": "error", "message", "category", "errorType"}`."""
    status = int(error.status or 0)
    headers = error.headers or {}
    kind = kind_of(status) if status else "transient"
    message = _message(error.body)
    wait = None
    if kind == "rate_limited":
        interval = headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
        milliseconds = str(interval)
        wait = retry_after(headers.get("Retry-After")) or (int(milliseconds) / 1000 if milliseconds.isdigit() else 10.0)
    return ConnectorError(kind, f"HubSpot answered {status}: {message}", wait, status)


def _message(body) -> str:
    try:
        parsed = json.loads(body) if body else {}
    except (TypeError, ValueError):
        return "no details"
    if not isinstance(parsed, dict):
        return "no details"
    return str(parsed.get("message") or parsed.get("category") or "no details")[:300]


def _iso(moment: datetime | str) -> str:
    return moment.isoformat() if isinstance(moment, datetime) else str(moment)


def _millis(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))
