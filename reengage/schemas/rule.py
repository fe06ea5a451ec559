"""Dropoff rules and the scenario catalogue, as the API takes and shows them."""

from datetime import timedelta

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from reengage import durations

# Rule kinds that detection handles today; the catalogue names the others its scenarios need.
KINDS = ("inactivity",)
SLUG = validate.Regexp(r"^[a-z0-9][a-z0-9_.-]{0,99}$", error="Use 1-100 lower-case letters, digits, '_', '.' or '-'.")
MAX_WAIT = timedelta(days=365)


class InactivityParamsSchema(Schema):
    """A start event, then no goal event within `wait`."""

    class Meta:
        unknown = RAISE

    start_events = fields.List(fields.String(validate=validate.Length(1, 200)), required=True,
                               validate=validate.Length(min=1), metadata={"example": ["application_started"]})
    goal_events = fields.List(fields.String(validate=validate.Length(1, 200)), required=True,
                              validate=validate.Length(min=1), metadata={"example": ["application_completed"]})
    wait = fields.String(required=True, metadata={"description": "ISO 8601 ('PT24H') or short ('24h', '3d').",
                                                  "example": "PT24H"})
    wait_from = fields.String(validate=validate.Length(1, 100), metadata={
        "description": "A property of the start event holding the time the wait counts from (else when it "
                       "happened), e.g. a booked call's `starts_at`.", "example": "starts_at"})
    match_key = fields.String(validate=validate.Length(1, 100), metadata={
        "description": "A property that tells parallel attempts apart: two applications are two watches.",
        "example": "application_id"})
    intent = fields.String(load_default="medium", validate=validate.OneOf(("low", "medium", "high")))

    @validates("wait")
    def _is_a_duration(self, value: str, **_kwargs) -> None:
        try:
            wait = durations.parse(value)
        except ValueError as error:
            raise ValidationError(str(error)) from None
        if not timedelta(0) < wait <= MAX_WAIT:
            raise ValidationError("Must be more than nothing and at most 365 days.")


class RuleInputSchema(Schema):
    """A new rule."""

    class Meta:
        unknown = RAISE

    key = fields.String(required=True, validate=SLUG, metadata={"example": "trial_abandoned"})
    name = fields.String(validate=validate.Length(1, 200), metadata={"example": "Trial started, not activated"})
    scenario = fields.String(required=True, validate=SLUG, metadata={
        "description": "A catalogued scenario (GET /v1/scenarios) or one of your own.",
        "example": "onboarding.started_then_stopped"})
    stage = fields.String(validate=SLUG, metadata={"description": "Defaults to the catalogued scenario's.",
                                                   "example": "onboarding"})
    kind = fields.String(required=True, validate=validate.OneOf(KINDS, error="Available kinds: {choices}."))
    params = fields.Nested(InactivityParamsSchema, required=True)
    enabled = fields.Boolean(load_default=True)


class RulePatchSchema(Schema):
    """Changes to a rule; `params` are merged into the stored ones."""

    class Meta:
        unknown = RAISE

    name = fields.String(validate=validate.Length(1, 200))
    stage = fields.String(validate=SLUG)
    params = fields.Dict(metadata={"description": "Merged into the rule's params, then checked whole.",
                                   "example": {"start_events": ["app_begun"], "wait": "48h"}})
    enabled = fields.Boolean()


class RuleSchema(Schema):
    """A stored rule; `id` is its key (for dropdowns)."""

    id = fields.Function(lambda rule: rule.key, metadata={"type": "string", "example": "application_abandoned"})
    key = fields.String(metadata={"example": "application_abandoned"})
    name = fields.String(metadata={"example": "Application started, not completed"})
    scenario = fields.String(metadata={"example": "sales.application_abandoned"})
    stage = fields.String(metadata={"example": "sales"})
    kind = fields.String(metadata={"example": "inactivity"})
    params = fields.Dict(metadata={"example": {"start_events": ["application_started"],
                                               "goal_events": ["application_completed"], "wait": "PT24H",
                                               "match_key": "application_id", "intent": "high"}})
    enabled = fields.Boolean()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class ScenarioSchema(Schema):
    """A scenario: catalogued, or named by one of the account's rules."""

    id = fields.String(metadata={"example": "sales.application_abandoned"})
    name = fields.String(metadata={"example": "Application started, not completed"})
    family = fields.String(metadata={"example": "sales"})
    stage = fields.String(metadata={"example": "sales"})
    kind = fields.String(metadata={"description": "The rule kind that detects it.", "example": "inactivity"})
    builtin = fields.Boolean()
    rules = fields.List(fields.String(), metadata={"description": "Keys of this account's rules for it."})
