"""Dropoff rules and the scenario catalogue, as the API takes and shows them."""

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate

from reengage.detection.detectors import DETECTORS
from reengage.platform.fields import SLUG

PARAMS_DOC = {
    "description": "What the rule's kind needs: see the RuleParams schemas, one per kind.",
    "oneOf": [{"$ref": f"#/components/schemas/RuleParams_{kind}"} for kind in DETECTORS],
}


def load_params(kind: str, params: dict) -> dict:
    """`params` checked (and completed with defaults) by the schema of `kind`."""
    try:
        return DETECTORS[kind].params().load(params)
    except ValidationError as error:
        raise ValidationError({"params": error.messages}) from None


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
    kind = fields.String(required=True, validate=validate.OneOf(list(DETECTORS), error="Available kinds: {choices}."))
    params = fields.Dict(required=True, metadata=PARAMS_DOC)
    enabled = fields.Boolean(load_default=True)

    @post_load
    def _check_params(self, data: dict, **_kwargs) -> dict:
        data["params"] = load_params(data["kind"], data["params"])
        return data


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
