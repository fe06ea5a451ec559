"""Contacts as the API shows and finds them (as callers send them: reengage.intake.schemas)."""

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from marshmallow.utils import get_value

from reengage.intake.schemas import IDENTIFIERS
from reengage.platform.fields import Email, Int64, Phone


class ContactSchema(Schema):
    """A stored contact."""

    id = Int64(metadata={"example": 42})
    external_id = fields.String(allow_none=True, metadata={"example": "user-8812"})
    email = fields.String(allow_none=True, metadata={"example": "dana@example.com"})
    phone = fields.String(allow_none=True, metadata={"example": "+14155552671"})
    # Kept for callers: the contact's id in HubSpot, from its identities.
    hubspot_id = fields.String(allow_none=True, attribute="external_ids.hubspot", dump_default=None,
                               metadata={"example": "5101"})
    first_name = fields.String(allow_none=True, metadata={"example": "Dana"})
    last_name = fields.String(allow_none=True, metadata={"example": "Reyes"})
    name = fields.Method("_name", metadata={"type": "string", "nullable": True, "example": "Dana Reyes"})
    timezone = fields.String(allow_none=True, metadata={"example": "America/Chicago"})
    country = fields.String(allow_none=True, metadata={"example": "US"})
    properties = fields.Dict(metadata={"example": {"plan": "growth"}})
    consent = fields.Dict(metadata={"example": {"email": True, "sms": False}})
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    last_event_at = fields.AwareDateTime(allow_none=True)
    engagement = Int64(metadata={"description": "Raised by opens (1) and clicks (3) of our emails.",
                                          "example": 4})
    engaged_at = fields.AwareDateTime(allow_none=True, metadata={"description": "The latest open or click."})
    test = fields.Boolean(metadata={
        "description": "Made by the console's \"try it now\": its dropoffs are tests, counted in no metric.",
        "example": False})

    def _name(self, contact) -> str | None:
        # A contact row (the ORM's) or its columns as a dict (what polls render).
        parts = (get_value(contact, "first_name", None), get_value(contact, "last_name", None))
        return " ".join(part for part in parts if part) or None


class ContactQuerySchema(Schema):
    """Filters for listing contacts (a search: no match is an empty list)."""

    class Meta:
        unknown = RAISE

    email = Email()
    external_id = fields.String()
    phone = Phone()
    hubspot_id = fields.String()
    salesforce_id = fields.String()
    limit = Int64(load_default=50, validate=validate.Range(1, 100))


class ContactRefSchema(Schema):
    """Names an existing contact: by id, or by an identifier (matched as intake matches them)."""

    class Meta:
        unknown = RAISE

    contact_id = Int64(metadata={"example": 42})
    external_id = fields.String(validate=validate.Length(1, 255), metadata={"example": "user-8812"})
    email = Email(metadata={"example": "dana@example.com"})
    phone = Phone()
    hubspot_id = fields.String(validate=validate.Length(1, 64))
    salesforce_id = fields.String(validate=validate.Length(1, 64))

    @validates_schema
    def _names_a_contact(self, data: dict, **_kwargs) -> None:
        if not any(name in data for name in ("contact_id", *IDENTIFIERS)):
            raise ValidationError(f"Give contact_id or one of {', '.join(IDENTIFIERS)}.")
