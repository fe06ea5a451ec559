"""Sample data: what a template sees for a sample contact and dropoff."""

from typing import Any

TEMPLATE_CONTEXT: dict[str, Any] = {
    "contact": {"id": 42, "first_name": "Dana", "last_name": "Reyes", "name": "Dana Reyes", "email": "dana@example.com",
                "phone": "+14155552671", "external_id": "user-8812", "timezone": "America/New_York",
                "country": "US", "properties": {"plan": "pro", "industry": "clinics"}},
    "dropoff": {"id": 7, "scenario": "sales.application_abandoned", "stage": "sales", "kind": "inactivity",
                "reason": "timeout", "intent": "high", "service": "Acme Payroll", "value": 249, "currency": "USD",
                "segment": {"engagement": "high", "attempts": 3, "objection": "price"},
                "detected_at": "2026-11-20T15:00:00+00:00"},
    "flow": {"key": "sales", "name": "Sales follow-up"},
    "account": {"name": "Acme"},
    "deep_link": "https://app.example.com/resume/abc123",
    "unsubscribe_url": "https://reengage.example.com/u/token",
}
# A template must render with everything known and with nothing known: a missing field is a fallback.
TEMPLATE_CONTEXTS: list[dict[str, Any]] = [TEMPLATE_CONTEXT, {}]
