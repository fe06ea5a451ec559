"""The sample records every unit, its documentation and the tests show: Dana, her dropoff, and one lost deal.

Triggers, actions and searches build their `SAMPLE` from these (overriding what their story changes),
templates are checked against `TEMPLATE_CONTEXT`, and the API's examples and the tests read the same
values, so a sample is written once. Each record has the shape the API answers with.
"""

from typing import Any

# A stored contact, as `GET /v1/contacts/<id>` answers it.
CONTACT: dict[str, Any] = {
    "id": 42, "external_id": "user-8812", "email": "dana@example.com", "phone": "+14155552671",
    "hubspot_id": None, "first_name": "Dana", "last_name": "Reyes", "name": "Dana Reyes",
    "timezone": "America/Chicago", "country": "US", "properties": {"plan": "growth"},
    "consent": {"email": True}, "created_at": "2026-11-20T15:04:05+00:00",
    "updated_at": "2026-11-20T15:04:05+00:00", "last_event_at": "2026-11-20T15:04:05+00:00",
    "engagement": 0, "engaged_at": None, "test": False,
}
# The contact after an update: what the contact search and Update Contact answer.
UPDATED_CONTACT: dict[str, Any] = {**CONTACT, "updated_at": "2026-11-21T09:00:00+00:00"}

# Her abandoned application, as `GET /v1/dropoffs/<id>` answers it.
DROPOFF: dict[str, Any] = {
    "id": 7, "rule": "application_abandoned", "contact_id": CONTACT["id"], "scenario": "sales.application_abandoned",
    "stage": "sales", "kind": "inactivity", "category": "inactive", "intent": "high", "match_value": "app-77",
    "value_at_risk": 249.0, "currency": "USD", "started_at": "2026-11-20T15:04:05+00:00",
    "occurred_at": "2026-11-21T15:04:05+00:00", "detected_at": "2026-11-21T15:04:06+00:00", "status": "open",
    "recovered_at": None, "recovery_seconds": None, "revenue": None, "dismissed_at": None, "retracted_at": None,
    "service": None,
    "ready_at": "2026-11-21T15:04:06+00:00",
    "segment": {"stage": "sales", "engagement": "medium", "events_30d": 3, "purchases": 0},
    "deep_link": "https://app.example.com/resume/abc123", "routed_at": None, "route_note": None, "test": False,
}

# What a step's templates see (see `reengage.sending.personalise.context`), with everything known.
TEMPLATE_CONTEXT: dict[str, Any] = {
    "contact": {**{name: CONTACT[name] for name in ("id", "first_name", "last_name", "name", "email", "phone",
                                                    "external_id")},
                "timezone": "America/New_York", "country": "US", "properties": {"plan": "pro", "industry": "clinics"}},
    "dropoff": {"id": DROPOFF["id"], "scenario": DROPOFF["scenario"], "stage": "sales", "kind": "inactivity",
                "reason": "timeout", "intent": "high", "service": "Acme Payroll", "value": 249, "currency": "USD",
                "segment": {"engagement": "high", "attempts": 3, "objection": "price"},
                "detected_at": "2026-11-20T15:00:00+00:00"},
    "flow": {"key": "sales", "name": "Sales follow-up"},
    "account": {"name": "Acme"},
    "deep_link": DROPOFF["deep_link"],
    "unsubscribe_url": "https://reengage.example.com/u/token",
}
# A template must render with everything known and with nothing known: a missing field is a fallback.
TEMPLATE_CONTEXTS: list[dict[str, Any]] = [TEMPLATE_CONTEXT, {}]

# The contact of a lost deal (a buyer, known to the CRM, not to the product).
DEAL_CONTACT: dict[str, Any] = {
    "id": 42, "external_id": None, "email": "sarah@datatech.example", "phone": None,
    "hubspot_id": "5101", "first_name": "Sarah", "last_name": "Johnson", "name": "Sarah Johnson",
    "timezone": None, "country": None, "properties": {}, "consent": {},
    "created_at": "2026-03-15T00:00:00+00:00", "updated_at": "2026-06-02T09:00:00+00:00",
    "last_event_at": None, "engagement": 0, "engaged_at": None, "test": False,
}
