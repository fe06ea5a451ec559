"""Atomic's connection as callers set it and as the API shows it."""

from marshmallow import RAISE, Schema, fields, validate

from reengage.platform.fields import HEADER_TOKEN
from reengage.schemas.connection import WRITE_ONLY, ConnectionStatusSchema


class AtomicInputSchema(Schema):
    """Atomic settings; secrets are needed once, then kept when omitted."""

    class Meta:
        unknown = RAISE

    api_key = fields.String(validate=[validate.Length(8, 300), HEADER_TOKEN], metadata={
        "description": "API key. " + WRITE_ONLY})
    api_secret = fields.String(validate=[validate.Length(8, 300), HEADER_TOKEN], metadata={
        "description": "API secret. " + WRITE_ONLY})
    sandbox = fields.Boolean(load_default=False, metadata={
        "description": "Call Atomic's sandbox rather than production."})
    operational_values = fields.List(fields.String(validate=validate.Length(1, 50)), validate=validate.Length(1, 10),
                                     load_default=lambda: ["operational"], metadata={
                                         "description": "A company's `status` values that mean it works."})
    first_poll_seconds = fields.Integer(load_default=60, validate=validate.Range(10, 3600), metadata={
        "description": "How long after a maintenance dropoff its company is first looked up; the wait doubles."})
    max_poll_seconds = fields.Integer(load_default=3600, validate=validate.Range(60, 86400), metadata={
        "description": "The longest wait between two look-ups of a company still under maintenance."})


class AtomicConnectionSchema(ConnectionStatusSchema):
    """The account's Atomic connection, without its secrets."""

    provider = fields.Constant("atomic")
    api_key_set = fields.Boolean(metadata={"example": True})
    api_secret_set = fields.Boolean()
    sandbox = fields.Boolean()
    operational_values = fields.List(fields.String())
    first_poll_seconds = fields.Integer()
    max_poll_seconds = fields.Integer()
