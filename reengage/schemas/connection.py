"""Connections as callers set them (credentials write-only) and as the API shows them (which are set)."""

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates
from sendgrid.helpers.eventwebhook import EventWebhook

from reengage.platform.fields import Email


class ConnectionStatusSchema(Schema):
    """Whether the service took the credentials the last time they were used or checked."""

    status = fields.String(metadata={"description": "unchecked, ok, or broken (the service refused the credentials).",
                                     "example": "ok"})
    status_reason = fields.String(allow_none=True, metadata={"example": None})
    checked_at = fields.AwareDateTime(allow_none=True)
    updated_at = fields.AwareDateTime()

WRITE_ONLY = "Write-only: kept encrypted, never answered. Omit it to keep the stored one."


class SendGridInputSchema(Schema):
    """SendGrid settings; `api_key` is needed the first time, then kept when omitted."""

    class Meta:
        unknown = RAISE

    api_key = fields.String(validate=validate.Length(10, 200), metadata={"description": WRITE_ONLY,
                                                                         "example": "SG.xxxxxxxx.yyyyyyyy"})
    from_email = Email(required=True, validate=validate.Length(max=320), metadata={"example": "hello@acme.com"})
    from_name = fields.String(allow_none=True, validate=validate.Length(max=100), metadata={"example": "Acme"})
    reply_to = Email(allow_none=True, validate=validate.Length(max=320), metadata={"example": "support@acme.com"})
    unsubscribe_group_id = fields.Integer(allow_none=True, validate=validate.Range(1), metadata={
        "description": "SendGrid unsubscribe group (ASM) every message belongs to.", "example": 4321})
    sandbox_mode = fields.Boolean(load_default=False, metadata={
        "description": "SendGrid validates each message without delivering it."})
    data_residency = fields.String(load_default="global", validate=validate.OneOf(("global", "eu")), metadata={
        "description": "`eu` sends through SendGrid's EU region (an EU subuser's key)."})
    event_webhook_public_key = fields.String(allow_none=True, validate=validate.Length(40, 400), metadata={
        "description": "The Event Webhook's verification key (base64, from Mail Settings): signed batches are "
                       "verified and unsigned ones refused."})

    @validates("event_webhook_public_key")
    def _readable_key(self, value: str | None, **_kwargs) -> None:
        if value:
            try:
                EventWebhook(value)
            except (ValueError, TypeError):
                raise ValidationError("Not a public key: paste the Verification Key from SendGrid.") from None


class SendGridConnectionSchema(ConnectionStatusSchema):
    """The account's SendGrid connection, without its key."""

    provider = fields.Constant("sendgrid")
    api_key_set = fields.Boolean(metadata={"example": True})
    from_email = fields.String(metadata={"example": "hello@acme.com"})
    from_name = fields.String(allow_none=True, metadata={"example": "Acme"})
    reply_to = fields.String(allow_none=True)
    unsubscribe_group_id = fields.Integer(allow_none=True)
    sandbox_mode = fields.Boolean()
    data_residency = fields.String(metadata={"example": "global"})
    event_webhook_public_key = fields.String(allow_none=True)
    event_webhook_url = fields.String(metadata={
        "description": "Paste into SendGrid's Event Webhook settings (HTTP POST URL).",
        "example": "https://reengage.example.com/v1/webhooks/sendgrid/3qJ0sZ..."})


class HubSpotPropertiesSchema(Schema):
    """Names of the HubSpot contact properties Reengage writes; empty to write none of that kind."""

    class Meta:
        unknown = RAISE

    status = fields.String(load_default="reengage_status", validate=validate.Length(0, 100))
    phase = fields.String(load_default="reengage_phase", validate=validate.Length(0, 100))
    last_touch = fields.String(load_default="reengage_last_touch", validate=validate.Length(0, 100))
    scenario = fields.String(load_default="reengage_scenario", validate=validate.Length(0, 100))


class HubSpotInputSchema(Schema):
    """HubSpot settings; secrets are needed once, then kept when omitted."""

    class Meta:
        unknown = RAISE

    access_token = fields.String(validate=validate.Length(10, 500), metadata={
        "description": "Private app access token (scopes: crm.objects.contacts, crm.objects.deals, "
                       "automation). " + WRITE_ONLY, "example": "pat-na1-xxxxxxxx"})
    client_secret = fields.String(validate=validate.Length(8, 200), metadata={
        "description": "The app's client secret, to verify X-HubSpot-Signature headers. " + WRITE_ONLY})
    portal_id = fields.Integer(allow_none=True, validate=validate.Range(1), metadata={"example": 62515})
    app_id = fields.Integer(allow_none=True, validate=validate.Range(1), metadata={
        "description": "The public app that registers the custom workflow action.", "example": 1234567})
    properties = fields.Nested(HubSpotPropertiesSchema, load_default=lambda: HubSpotPropertiesSchema().load({}))
    loss_reason_property = fields.String(load_default="closed_lost_reason", validate=validate.Length(1, 100))
    competitor_property = fields.String(allow_none=True, validate=validate.Length(1, 100), metadata={
        "description": "The deal property naming the competitor a deal was lost to (none by default)."})
    task_owner_id = fields.String(allow_none=True, validate=validate.Length(1, 40), metadata={
        "description": "Owner of tasks for contacts whose HubSpot owner is not known.", "example": "8712345"})
    sync_closed_lost = fields.Boolean(load_default=False, metadata={
        "description": "Read deals that move to closed-lost (any pipeline) as lost deals (with `deal.closed_lost` "
                       "events when they have a contact); a known lost deal moving to closed-won is a win-back won."})


class HubSpotConnectionSchema(ConnectionStatusSchema):
    """The account's HubSpot connection, without its secrets."""

    provider = fields.Constant("hubspot")
    access_token_set = fields.Boolean(metadata={"example": True})
    client_secret_set = fields.Boolean(metadata={"example": True})
    portal_id = fields.Integer(allow_none=True)
    app_id = fields.Integer(allow_none=True)
    properties = fields.Nested(HubSpotPropertiesSchema)
    loss_reason_property = fields.String()
    competitor_property = fields.String(allow_none=True)
    task_owner_id = fields.String(allow_none=True)
    sync_closed_lost = fields.Boolean()
    webhook_url = fields.String(metadata={"description": "For a workflow's \"Send a webhook\" action."})
    action_url = fields.String(metadata={"description": "actionUrl of the custom workflow action."})
