"""Preview a flow step as a contact (or the sample contact) would get it."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from reengage import contacts, db, enrollments, flows, personalise, schedule
from reengage.channels import CHANNELS
from reengage.errors import ApiError
from reengage.models import Account
from reengage.readiness import variant_of
from reengage.schemas.contact import IDENTIFIERS, ContactRefSchema
from reengage.schemas.flow import HINTS, FlowRef

KEY = "render"
NOUN = "Preview"
LABEL = "Render Step"
DESCRIPTION = ("Render a step of a flow for a contact, as it would be sent now (or for the sample contact when "
               "none is named): subject, text, HTML and call to action.")


class RenderInput(ContactRefSchema):
    flow = FlowRef(required=True)
    step = fields.String(required=True, validate=validate.Length(1, 120), metadata={
        "description": "<phase>.<step key>, or the step key alone.", "example": "1.pick-up"})
    variant = fields.String(validate=validate.Regexp(r"^[A-Z]$"), metadata={"example": "B"})
    dropoff_id = fields.Integer(metadata={"description": "Render with this dropoff's stage, reason and value."})

    @validates_schema
    def _names_a_contact(self, data: dict, **_kwargs) -> None:
        # Replaces the base check: here the contact is optional (the sample stands in), unless a dropoff is named.
        if "dropoff_id" in data and not _names_contact(data):
            raise ValidationError("Name the dropoff's contact too.", "dropoff_id")


class RenderOutput(Schema):
    channel = fields.String(metadata={"example": "email"})
    step = fields.String(metadata={"example": "1.pick-up"})
    variant = fields.String(metadata={"example": "A"})
    subject = fields.String(allow_none=True, metadata={"example": "Dana, your progress is saved"})
    text = fields.String(allow_none=True)
    html = fields.String(allow_none=True)
    cta_label = fields.String(allow_none=True, metadata={"example": "Continue where I stopped"})
    cta_url = fields.String(allow_none=True, metadata={"example": "https://app.example.com/resume/abc123"})
    hint = fields.String(allow_none=True, metadata={"enum": list(HINTS), "example": None})
    sendgrid_template_id = fields.String(allow_none=True)


Input, Output = RenderInput, RenderOutput
SAMPLE = {"channel": "email", "step": "1.pick-up", "variant": "A", "subject": "Dana, your progress is saved",
          "text": "Hi Dana, ...", "html": "<div>...</div>", "cta_label": "Continue where I stopped",
          "cta_url": "https://app.example.com/resume/abc123", "hint": None, "sendgrid_template_id": None}


def perform(account_id: int, data: dict) -> dict:
    """Render the step; nothing is stored or sent."""
    db_session = db.session()
    flow = flows.find(account_id, data["flow"])
    number, step = _step(flow, data["step"])
    variant = data.get("variant", "A")
    if variant != "A" and variant not in {v["key"] for v in step.get("variants", ())}:
        raise ApiError(404, "not_found", f"Step {number}.{step['key']} has no variant {variant!r}.")
    shown = variant_of(step, variant)
    if not _names_contact(data):
        context = personalise.SAMPLE
    else:
        contact = contacts.find(db_session, account_id, data)
        dropoff = enrollments.dropoff_of(contact, data.get("dropoff_id"))
        account = db_session.get(Account, account_id)
        settings = schedule.effective(account.settings, flow)
        consent = CHANNELS[step["channel"]].consent(step)
        context = personalise.for_step(account_id, account.name, contact, dropoff, flow, settings, consent)
    content = CHANNELS[step["channel"]].compose(shown, context)
    return {**content, "channel": step["channel"], "step": f"{number}.{step['key']}", "variant": variant}


def _names_contact(data: dict) -> bool:
    return any(name in data for name in ("contact_id", *IDENTIFIERS))


def _step(flow, ref: str) -> tuple[int, dict]:
    phase, _, key = ref.rpartition(".")
    for number, step in enrollments.steps(flow):
        if step["key"] == key and (not phase or phase == str(number)):
            return number, step
    raise ApiError(404, "not_found", f"Flow {flow.key!r} has no step {ref!r}.")
