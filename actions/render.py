"""Preview a flow step as a contact (or the sample contact) would get it."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from actions.action import Action
from reengage.channels import CHANNELS
from reengage.intake import contacts
from reengage.intake.schemas import IDENTIFIERS
from reengage.models import Account, Deal, Flow
from reengage.platform import db, rendering
from reengage.platform.errors import ApiError, field_error
from reengage.platform.fields import Int64
from reengage.samples import TEMPLATE_CONTEXT
from reengage.schemas.contact import ContactRefSchema
from reengage.schemas.flow import FlowRef
from reengage.sending import personalise
from reengage.sending.readiness import variant_of
from reengage.sequencing import enrollments, flows
from reengage.sequencing.definition import HINTS
from reengage.settings import effective


class RenderInput(ContactRefSchema):
    flow = FlowRef(metadata={"description": "The flow's key or id (required unless `deal_id` is given)."})
    step = fields.String(validate=validate.Length(1, 120), metadata={
        "description": "<phase>.<step key>, or the step key alone (required with `flow`).", "example": "1.pick-up"})
    variant = fields.String(validate=validate.Regexp(r"^[A-Z]$"), metadata={"example": "B"})
    dropoff_id = Int64(metadata={"description": "Render with this dropoff's stage, reason and value."})
    deal_id = Int64(metadata={"description": "Render this lost deal's win-back draft instead of a step."})

    @validates_schema
    def _names_a_step_or_a_deal(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if "deal_id" in data:
            extra = [name for name in ("flow", "step", "variant", "dropoff_id") if name in data]
            if extra:
                raise ValidationError("Give deal_id alone, or a flow and step.", extra[0])
            return
        for name in ("flow", "step"):
            if name not in data:
                raise ValidationError("Missing data for required field (or give deal_id).", name)

    @validates_schema
    def _names_a_contact(self, data: dict[str, Any], **_kwargs: Any) -> None:
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


def perform(account_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Render the step (or the deal's draft); nothing is stored or sent."""
    if "deal_id" in data:
        return _draft(account_id, data["deal_id"])
    flow = flows.find(account_id, data["flow"])
    number, step = _step(flow, data["step"])
    return compose(account_id, flow, number, step, data)


def compose(account_id: int, flow: Flow, number: int, step: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Render `step` (as stored, or as being edited) of phase `number` for the contact `data` names, or the sample."""
    db_session = db.session()
    variant = data.get("variant", "A")
    if variant != "A" and variant not in {v["key"] for v in step.get("variants", ())}:
        raise ApiError(404, "not_found", f"Step {number}.{step['key']} has no variant {variant!r}.")
    shown = variant_of(step, variant)
    if not _names_contact(data):
        context = TEMPLATE_CONTEXT
    else:
        contact = contacts.find(db_session, account_id, data)
        dropoff = enrollments.dropoff_of(contact, data.get("dropoff_id"))
        account = db_session.get_one(Account, account_id)
        settings = effective(account.settings, flow)
        consent = CHANNELS[step["channel"]].consent(step)
        context = personalise.for_step(account_id, account.name, contact, dropoff, flow, settings, consent)
    try:
        content = CHANNELS[step["channel"]].compose(shown, context)
    except rendering.Unrenderable as error:  # checked when saved; the contact's own data can still break it
        raise field_error("step", f"Step {number}.{step['key']} cannot be rendered: {error}") from None
    return {**content, "channel": step["channel"], "step": f"{number}.{step['key']}", "variant": variant}


def _draft(account_id: int, deal_id: int) -> dict[str, Any]:
    deal = db.session().scalar(select(Deal).where(Deal.id == deal_id, Deal.account_id == account_id))
    if deal is None:
        raise ApiError(404, "not_found", f"No deal {deal_id} in this account.")
    draft = deal.draft
    return {"channel": draft.get("channel", "email"), "step": "winback.draft", "variant": "A",
            "subject": draft.get("subject"), "text": draft.get("text"),
            "html": rendering.html(draft.get("text") or "", "", "", ""), "cta_label": None, "cta_url": None,
            "hint": None, "sendgrid_template_id": None}


def _names_contact(data: dict[str, Any]) -> bool:
    return any(name in data for name in ("contact_id", *IDENTIFIERS))


def _step(flow: Flow, ref: str) -> tuple[int, dict[str, Any]]:
    phase, _, key = ref.rpartition(".")
    for number, step in enrollments.steps(flow):
        if step["key"] == key and (not phase or phase == str(number)):
            return number, step
    raise ApiError(404, "not_found", f"Flow {flow.key!r} has no step {ref!r}.")


ACTION = Action(
    key="render",
    noun="Preview",
    label="Render Step",
    description="Render a step of a flow for a contact, as it would be sent now (or for the sample contact when "
                "none is named): subject, text, HTML and call to action. Or, with `deal_id` alone, a lost deal's "
                "win-back draft.",
    input=RenderInput,
    output=RenderOutput,
    sample={"channel": "email", "step": "1.pick-up", "variant": "A", "subject": "Dana, your progress is saved",
            "text": "Hi Dana, ...", "html": "<div>...</div>", "cta_label": "Continue where I stopped",
            "cta_url": "https://app.example.com/resume/abc123", "hint": None, "sendgrid_template_id": None},
    perform=perform,
)
