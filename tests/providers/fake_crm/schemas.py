"""The fake CRM's connection as callers set it and as the API shows it."""

from marshmallow import RAISE, Schema, fields, validate

from reengage.schemas.connection import WRITE_ONLY, ConnectionStatusSchema


class FakeCRMInputSchema(Schema):
    """An API key (needed once) and whether closed-lost deals are read."""

    class Meta:
        unknown = RAISE

    api_key = fields.String(validate=validate.Length(8, 200), metadata={"description": WRITE_ONLY})
    sync_closed_lost = fields.Boolean(load_default=False)


class FakeCRMConnectionSchema(ConnectionStatusSchema):
    """The account's fake CRM connection, without its key."""

    provider = fields.Constant("fake_crm")
    api_key_set = fields.Boolean()
    sync_closed_lost = fields.Boolean()
