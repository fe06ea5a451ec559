"""New Dropoff: a contact was detected stopping short of a goal."""

from collections.abc import Sequence
from typing import Any

from marshmallow import fields, validate
from sqlalchemy import Row, Select, select

from reengage.models import Contact, Dropoff
from reengage.models.dropoff import INTENTS
from reengage.schemas.contact import ContactSchema
from reengage.schemas.dropoff import DropoffSchema
from triggers.polling import Filter, Trigger, equal


class DropoffItem(DropoffSchema):
    """A dropoff with its contact."""

    contact = fields.Nested(ContactSchema)


_DROPOFF, _CONTACT = DropoffSchema(), ContactSchema()


def query(account_id: int) -> Select[Dropoff, Contact]:
    """The account's dropoffs with their contacts."""
    return (select(Dropoff, Contact).join(Contact, Contact.id == Dropoff.contact_id)
            .where(Dropoff.account_id == account_id))


def items(rows: Sequence[Row[Dropoff, Contact]]) -> list[dict[str, Any]]:
    """Each dropoff with its contact."""
    return [{**_DROPOFF.dump(dropoff), "contact": _CONTACT.dump(contact)} for dropoff, contact in rows]


TRIGGER = Trigger(
    key="dropoff.detected",
    noun="Dropoff",
    label="New Dropoff",
    description="Triggers when someone drops off a funnel: an abandoned application, a no-show, a stalled "
                "onboarding, a failed sign-in.",
    filters=(
        Filter("scenario", fields.String(), equal(Dropoff.scenario), description="Only this scenario."),
        Filter("stage", fields.String(), equal(Dropoff.stage), description="Only this funnel stage."),
        Filter("intent", fields.String(validate=validate.OneOf(INTENTS)), equal(Dropoff.intent),
               description="Only dropoffs of this intent."),
        Filter("rule", fields.String(), equal(Dropoff.rule_key), description="Only dropoffs of this rule (its key)."),
    ),
    order=(Dropoff.detected_at, Dropoff.id),
    item=DropoffItem,
    sample={
        "id": 7, "rule": "application_abandoned", "contact_id": 42, "scenario": "sales.application_abandoned",
        "stage": "sales", "kind": "inactivity", "category": "inactive", "intent": "high", "match_value": "app-77",
        "value_at_risk": 249.0, "currency": "USD", "started_at": "2026-11-20T15:04:05+00:00",
        "occurred_at": "2026-11-21T15:04:05+00:00", "detected_at": "2026-11-21T15:04:06+00:00", "status": "open",
        "recovered_at": None, "recovery_seconds": None, "revenue": None, "dismissed_at": None, "service": None,
        "ready_at": "2026-11-21T15:04:06+00:00",
        "segment": {"stage": "sales", "engagement": "medium", "events_30d": 3, "purchases": 0},
        "deep_link": "https://app.example.com/resume/abc123", "routed_at": None, "route_note": None,
        "contact": {"id": 42, "external_id": "user-8812", "email": "dana@example.com", "phone": "+14155552671",
                    "hubspot_id": None, "first_name": "Dana", "last_name": "Reyes", "name": "Dana Reyes",
                    "timezone": "America/Chicago", "country": "US", "properties": {"plan": "growth"},
                    "consent": {"email": True}, "created_at": "2026-11-20T15:04:05+00:00",
                    "updated_at": "2026-11-20T15:04:05+00:00", "last_event_at": "2026-11-20T15:04:05+00:00",
                    "engagement": 0, "engaged_at": None},
    },
    query=query,
    items=items,
)
