"""Salesforce's connection as callers set it and as the API shows it."""

from marshmallow import RAISE, Schema, fields, validate

from reengage.platform.fields import HEADER_TOKEN
from reengage.schemas.connection import WRITE_ONLY, ConnectionStatusSchema

FIELD = validate.Regexp(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$", error="Not a Salesforce field name.")
# A field name, or empty to write nothing of that kind.
OPTIONAL_FIELD = validate.Regexp(r"^([A-Za-z][A-Za-z0-9_]*)?$", error="Not a Salesforce field name.")


class ContactFieldsSchema(Schema):
    """Contact (and lead) fields Reengage writes as it sends; empty (the default) to write none of that kind."""

    class Meta:
        unknown = RAISE

    status = fields.String(load_default="", validate=OPTIONAL_FIELD, metadata={"example": "Reengage_Status__c"})
    phase = fields.String(load_default="", validate=OPTIONAL_FIELD)
    last_touch = fields.String(load_default="", validate=OPTIONAL_FIELD)
    scenario = fields.String(load_default="", validate=OPTIONAL_FIELD)


class OpportunityFieldsSchema(Schema):
    """Opportunity fields written when a win-back is ready; empty (the default) to write none of that kind."""

    class Meta:
        unknown = RAISE

    status = fields.String(load_default="", validate=OPTIONAL_FIELD, metadata={
        "description": "Re-engagement status (`winback_ready`).", "example": "Reengage_Status__c"})
    priority = fields.String(load_default="", validate=OPTIONAL_FIELD, metadata={"example": "Reengage_Priority__c"})
    score = fields.String(load_default="", validate=OPTIONAL_FIELD, metadata={"example": "Reengage_Score__c"})
    window = fields.String(load_default="", validate=OPTIONAL_FIELD, metadata={
        "description": "The timing window, `2026-07-20 to 2026-10-20`.", "example": "Reengage_Window__c"})


class SalesforceInputSchema(Schema):
    """Salesforce settings: a connected app's consumer key, with a refresh token or a JWT bearer user and key."""

    class Meta:
        unknown = RAISE

    client_id = fields.String(validate=[validate.Length(10, 300), HEADER_TOKEN], metadata={
        "description": "The connected app's consumer key. " + WRITE_ONLY})
    client_secret = fields.String(validate=[validate.Length(8, 300), HEADER_TOKEN], metadata={
        "description": "The consumer secret, for the refresh-token flow when the app requires it. " + WRITE_ONLY})
    refresh_token = fields.String(validate=[validate.Length(10, 500), HEADER_TOKEN], metadata={
        "description": "An OAuth refresh token (scopes `api refresh_token`). " + WRITE_ONLY})
    private_key = fields.String(validate=validate.Length(100, 10000), metadata={
        "description": "JWT bearer flow: the PEM private key of the certificate uploaded to the app. " + WRITE_ONLY})
    username = fields.String(allow_none=True, validate=validate.Length(3, 200), metadata={
        "description": "JWT bearer flow: the pre-authorised user the server acts as.",
        "example": "integration@acme.example"})
    sandbox = fields.Boolean(load_default=False, metadata={"description": "Log in at test.salesforce.com."})
    api_version = fields.String(load_default="59.0", validate=validate.Regexp(r"^\d{2}\.0$"))
    loss_reason_field = fields.String(allow_none=True, validate=FIELD, metadata={
        "description": "The opportunity field holding the loss reason (none by default).",
        "example": "Loss_Reason__c"})
    competitor_field = fields.String(allow_none=True, validate=FIELD, metadata={
        "description": "The opportunity field naming the competitor it was lost to.", "example": "Competitor__c"})
    currency_field = fields.String(allow_none=True, validate=FIELD, metadata={
        "description": "`CurrencyIsoCode` in a multi-currency org.", "example": "CurrencyIsoCode"})
    contact_fields = fields.Nested(ContactFieldsSchema, load_default=lambda: ContactFieldsSchema().load({}))
    opportunity_fields = fields.Nested(OpportunityFieldsSchema,
                                       load_default=lambda: OpportunityFieldsSchema().load({}))
    task_owner_id = fields.String(allow_none=True, validate=validate.Regexp(r"^005[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$"),
                                  metadata={"description": "The user who gets tasks when the owner is not known.",
                                            "example": "0055g00000AbCdEAAV"})
    api_reserve_percent = fields.Integer(load_default=10, validate=validate.Range(0, 90), metadata={
        "description": "Share of the org's daily API calls left to its other integrations: past it, syncs wait."})
    sync_closed_lost = fields.Boolean(load_default=False, metadata={
        "description": "Read opportunities that close lost as lost deals (with `deal.closed_lost` events when they "
                       "have a contact); a known lost deal that closes won is a win-back won."})


class SalesforceConnectionSchema(ConnectionStatusSchema):
    """The account's Salesforce connection, without its secrets."""

    provider = fields.Constant("salesforce")
    client_id_set = fields.Boolean(metadata={"example": True})
    client_secret_set = fields.Boolean()
    refresh_token_set = fields.Boolean(metadata={"example": True})
    private_key_set = fields.Boolean()
    username = fields.String(allow_none=True)
    sandbox = fields.Boolean()
    api_version = fields.String()
    loss_reason_field = fields.String(allow_none=True)
    competitor_field = fields.String(allow_none=True)
    currency_field = fields.String(allow_none=True)
    contact_fields = fields.Nested(ContactFieldsSchema)
    opportunity_fields = fields.Nested(OpportunityFieldsSchema)
    task_owner_id = fields.String(allow_none=True)
    api_reserve_percent = fields.Integer()
    sync_closed_lost = fields.Boolean()
