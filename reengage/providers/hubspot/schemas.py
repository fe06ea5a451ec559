"""HubSpot's connection as callers set it and as the API shows it, and what its workflow calls answer."""

from marshmallow import RAISE, Schema, fields, validate

from reengage.platform.fields import HEADER_TOKEN, Int64
from reengage.schemas.connection import WRITE_ONLY, ConnectionStatusSchema
from reengage.schemas.enrollment import EnrollmentSchema
from reengage.schemas.event import IntakeResultSchema
from reengage.schemas.flow import FlowRef

SIGNATURE_VERSIONS = ("v3", "v2", "v1")
SIGNATURES_DOC = (
    "Signature versions accepted on `webhook_url` (and on `action_url`, which also takes v2: HubSpot signs custom "
    "action calls with v2 only). v3 signs the method, URL, body and a timestamp (older than 5 minutes is refused); "
    "v2 signs the method, URL and body without a time; v1 signs only the body, so with v1 the event `type` and "
    "`flow` must come in the body, never in the URL's query.")


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

    access_token = fields.String(validate=[validate.Length(10, 500), HEADER_TOKEN], metadata={
        "description": "Private app access token (scopes: crm.objects.contacts, crm.objects.deals, "
                       "automation). " + WRITE_ONLY, "example": "pat-na1-xxxxxxxx"})
    client_secret = fields.String(validate=validate.Length(8, 200), metadata={
        "description": "The app's client secret, to verify X-HubSpot-Signature headers. " + WRITE_ONLY})
    portal_id = Int64(allow_none=True, validate=validate.Range(1), metadata={"example": 62515})
    app_id = Int64(allow_none=True, validate=validate.Range(1), metadata={
        "description": "The public app that registers the custom workflow action.", "example": 1234567})
    properties = fields.Nested(HubSpotPropertiesSchema, load_default=lambda: HubSpotPropertiesSchema().load({}))
    loss_reason_property = fields.String(load_default="closed_lost_reason", validate=validate.Length(1, 100))
    competitor_property = fields.String(allow_none=True, validate=validate.Length(1, 100), metadata={
        "description": "The deal property naming the competitor a deal was lost to (none by default)."})
    task_owner_id = fields.String(allow_none=True, validate=validate.Length(1, 40), metadata={
        "description": "Owner of tasks for contacts whose HubSpot owner is not known.", "example": "8712345"})
    signature_versions = fields.List(
        fields.String(validate=validate.OneOf(SIGNATURE_VERSIONS)), load_default=lambda: ["v3"],
        validate=validate.Length(1, 3), metadata={"description": SIGNATURES_DOC, "example": ["v3"]})
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
    signature_versions = fields.List(fields.String(), metadata={"description": SIGNATURES_DOC, "example": ["v3"]})
    sync_closed_lost = fields.Boolean()
    webhook_url = fields.String(metadata={"description": "For a workflow's \"Send a webhook\" action."})
    action_url = fields.String(metadata={"description": "actionUrl of the custom workflow action."})


class HubSpotWebhookQuerySchema(Schema):
    """What to do with the contact a workflow sends: record an event, enroll in a flow, or both."""

    class Meta:
        unknown = RAISE

    type = fields.String(validate=validate.Length(1, 200), metadata={
        "description": "The event to record (also read from the body's `type`).", "example": "demo_no_show"})
    flow = FlowRef(metadata={"description": "Enroll the contact in this flow (also read from the body's `flow`)."})


class HubSpotWebhookResultSchema(Schema):
    """What was done for the contact."""

    event = fields.Nested(IntakeResultSchema, allow_none=True)
    enrollment = fields.Nested(EnrollmentSchema, allow_none=True)
    contact_id = fields.Integer(metadata={"example": 42})


class HubSpotOutputFieldsSchema(Schema):
    """The custom action's output fields, as HubSpot reads them."""

    hs_execution_state = fields.String(metadata={"enum": ["SUCCESS", "FAIL_CONTINUE", "BLOCK"]})
    hs_expiration_duration = fields.String(metadata={
        "description": "With BLOCK: how long HubSpot holds the record (ISO 8601), the flow's remaining length plus a "
                       "day, at most HUBSPOT_BLOCK_MAX.", "example": "P61DT3H"})
    enrollment_id = fields.String(metadata={"example": "12"})
    enrollment_status = fields.String(metadata={"example": "active"})
    exit_reason = fields.String(metadata={"example": ""})
    recovered = fields.Boolean()
    event_status = fields.String(metadata={"description": "created or replayed, when an event was recorded."})
    error = fields.String(metadata={"description": "Why the action could not act (FAIL_CONTINUE)."})


class HubSpotActionResultSchema(Schema):
    """The answer to a custom workflow action (automation v4)."""

    outputFields = fields.Nested(HubSpotOutputFieldsSchema)


HUBSPOT_ACTION_EXAMPLE = {
    "callbackId": "ap-102-4470-1-0", "origin": {"portalId": 62515, "actionDefinitionId": 1029},
    "context": {"source": "WORKFLOWS", "workflowId": 88102},
    "object": {"objectId": 5101, "objectType": "CONTACT",
               "properties": {"email": "dana@example.com", "firstname": "Dana", "lastname": "Reyes"}},
    "inputFields": {"flow": "sales", "event_type": "", "wait_for_outcome": "true"},
}
