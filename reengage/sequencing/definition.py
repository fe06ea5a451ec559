"""A flow's definition: five phases of steps, each step's content and timing, checked as flows are stored."""

from functools import lru_cache
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from reengage.channels import CHANNELS
from reengage.platform import durations, rendering
from reengage.platform.fields import SLUG
from reengage.samples import TEMPLATE_CONTEXTS
from reengage.sequencing import phases
from reengage.settings import FlowSettingsSchema

HINTS = ("sms", "whatsapp", "slack", "call", "direct_mail", "push", "other")
SELECTOR = validate.Regexp(
    r"^(rule:[a-z0-9][a-z0-9_.-]{0,99}|scenario:[a-z0-9][a-z0-9_.-]{0,99}(/[a-z0-9_]{1,40})?|family:[a-z0-9_]{1,60})$",
    error="Use rule:<rule key>, scenario:<scenario>, scenario:<scenario>/<category> or family:<family>.")
TEMPLATE_FIELDS = ("subject", "body")


class Offset(fields.String):
    """How long after enrollment a step goes, as written (`PT2H`, `P3D`, `0`)."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            durations.offset(text)
        except ValueError as error:
            raise ValidationError(str(error)) from None
        return text


class CtaSchema(Schema):
    """The one call to action of a step; `url` is a template too (usually `{{ deep_link }}`)."""

    class Meta:
        unknown = RAISE

    label = fields.String(required=True, validate=validate.Length(1, 100), metadata={"example": "Finish now"})
    url = fields.String(required=True, validate=validate.Length(1, 2048), metadata={"example": "{{ deep_link }}"})


class VariantSchema(Schema):
    """An A/B alternative of a step: what it changes (the rest is the step's own)."""

    class Meta:
        unknown = RAISE

    key = fields.String(required=True, validate=validate.Regexp(r"^[B-Z]$", error="Use one letter, B to Z."),
                        metadata={"example": "B"})
    subject = fields.String(validate=validate.Length(1, 500))
    body = fields.String(validate=validate.Length(1, 20_000))
    cta = fields.Nested(CtaSchema)
    sendgrid_template_id = fields.String(validate=validate.Regexp(r"^d-[0-9a-f]{32}$"))


class StepSchema(Schema):
    """One message of a phase."""

    class Meta:
        unknown = RAISE

    key = fields.String(required=True, validate=SLUG, metadata={"example": "pick-up"})
    offset = Offset(required=True, metadata={"description": "After enrollment, inside the phase's days.",
                                             "example": "PT2H"})
    channel = fields.String(required=True, validate=validate.OneOf(list(CHANNELS)))
    subject = fields.String(validate=validate.Length(1, 500), metadata={
        "description": "Email subject or task title; a template.", "example": "Your progress is saved"})
    body = fields.String(validate=validate.Length(1, 20_000), metadata={
        "description": "Plain text; a template. Emails get an HTML version built from it.",
        "example": "Hi {{ contact.first_name or 'there' }}, ..."})
    sendgrid_template_id = fields.String(validate=validate.Regexp(r"^d-[0-9a-f]{32}$"), metadata={
        "description": "Email only: send this SendGrid dynamic template (with the context as its data) instead."})
    cta = fields.Nested(CtaSchema)
    hint = fields.String(validate=validate.OneOf(HINTS), metadata={
        "description": "Webhook only: how the platform should deliver it.", "example": "sms"})
    variants = fields.List(fields.Nested(VariantSchema), validate=validate.Length(max=4))

    @validates_schema
    def _complete(self, data: dict, **_kwargs) -> None:
        channel = CHANNELS[data["channel"]]
        if problem := channel.incomplete(data):
            field, message = problem
            raise ValidationError(message, field)
        if not channel.templates and data.get("sendgrid_template_id"):
            raise ValidationError("Only email steps use a SendGrid template.", "sendgrid_template_id")
        if not channel.hints and data.get("hint"):
            raise ValidationError("Only webhook steps take a delivery hint.", "hint")
        keys = [variant["key"] for variant in data.get("variants", [])]
        if len(keys) != len(set(keys)):
            raise ValidationError("Each variant needs its own key.", "variants")


class PhaseSchema(Schema):
    """One of the five phases."""

    class Meta:
        unknown = RAISE

    name = fields.String(validate=validate.Length(1, 100), metadata={"example": "Immediate response"})
    steps = fields.List(fields.Nested(StepSchema), required=True, validate=validate.Length(max=10))


class FlowDefinitionSchema(Schema):
    """A whole flow, as exported and imported (and as the shipped templates are written)."""

    class Meta:
        unknown = RAISE

    key = fields.String(required=True, validate=SLUG, metadata={"example": "sales"})
    name = fields.String(required=True, validate=validate.Length(1, 200), metadata={"example": "Sales follow-up"})
    description = fields.String(validate=validate.Length(max=2000), load_default="")
    family = fields.String(validate=validate.Length(max=60), metadata={"description": "Templates only."})
    template = fields.String(allow_none=True, metadata={"description": "The template it was cloned from."})
    enroll_on = fields.List(fields.String(validate=SELECTOR), load_default=list, metadata={
        "description": "Which dropoffs enroll: the most specific match wins (rule, then scenario/category, "
                       "then scenario, then family).", "example": ["family:sales", "rule:trial_abandoned"]})
    goal_events = fields.List(fields.String(validate=validate.Length(1, 200)), load_default=list, metadata={
        "description": "Events that count as converting (besides the dropoff rule's own goal).",
        "example": ["purchase_completed"]})
    holdout_percent = fields.Integer(validate=validate.Range(0, 50), load_default=0, metadata={
        "description": "Share of enrollments that get no messages, to measure lift.", "example": 10})
    settings = fields.Nested(FlowSettingsSchema, load_default=dict)
    enabled = fields.Boolean(load_default=True)
    phases = fields.List(fields.Nested(PhaseSchema), required=True, validate=validate.Length(5, 5, error=(
        "A flow has exactly five phases (give an empty step list to skip one).")))

    @validates_schema
    def _steps_fit(self, data: dict, **_kwargs) -> None:
        """Every step inside its phase's days, keys unique, templates that compile and render."""
        problems: dict = {}
        seen: set[str] = set()
        for index, phase in enumerate(data.get("phases") or []):
            window = phases.PHASES[index]
            for number, step in enumerate(phase["steps"]):
                errors: dict[str, Any] = {}
                if not window.start <= durations.offset(step["offset"]) < window.end:
                    errors["offset"] = [f"Phase {window.number} covers {phases.window(window)} after enrollment."]
                if step["key"] in seen:
                    errors["key"] = ["Already used by another step of this flow."]
                seen.add(step["key"])
                errors.update(template_problems(step))
                for v_index, variant in enumerate(step.get("variants", [])):
                    if found := template_problems(variant):
                        errors.setdefault("variants", {})[v_index] = found
                if errors:
                    problems.setdefault(index, {"steps": {}})["steps"][number] = errors
        if problems:
            raise ValidationError({"phases": problems})


def template_problems(step: dict) -> dict:
    """Template errors of a step's subject, body and call to action, by field."""
    errors: dict = {}
    for name in TEMPLATE_FIELDS:
        if step.get(name) and (found := template_problem(step[name])):
            errors[name] = [found]
    if step.get("cta") and (found := template_problem(step["cta"]["url"])):
        errors["cta"] = {"url": [found]}
    return errors


@lru_cache(maxsize=4096)
def template_problem(source: str) -> str | None:
    """Why `source` cannot be a step's template, else None; known once checked (a PATCH checks its changes, then
    the merged flow, and most steps of a flow are unchanged)."""
    return rendering.problem(source, TEMPLATE_CONTEXTS)
