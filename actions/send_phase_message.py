"""Send a flow's step, or a message written in the Zap, to a contact now, through the exactly-once message path."""

from typing import Any
from uuid import uuid4

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema
from sqlalchemy import select

from actions.action import Action
from reengage.channels import CHANNELS
from reengage.intake import contacts
from reengage.jobs.messages import send_messages
from reengage.models import Enrollment, Flow, Message
from reengage.platform import db, queue
from reengage.platform.errors import ApiError
from reengage.platform.fields import SLUG
from reengage.schemas.contact import ContactRefSchema
from reengage.schemas.enrollment import MessageSchema
from reengage.schemas.flow import FlowRef
from reengage.sending import readiness
from reengage.sequencing import enrollments, flows
from reengage.sequencing.definition import HINTS, CtaSchema, template_problems

# The channels a message written in the call may go on.
WRITTEN = [key for key, channel in CHANNELS.items() if channel.written]


class WrittenSchema(Schema):
    """A message written in the call rather than taken from the flow."""

    channel = fields.String(load_default="email", validate=validate.OneOf(WRITTEN))
    subject = fields.String(validate=validate.Length(1, 500), metadata={"example": "Still thinking it over?"})
    body = fields.String(required=True, validate=validate.Length(1, 20_000),
                         metadata={"example": "Hi {{ contact.first_name or 'there' }}, your spot is saved."})
    cta = fields.Nested(CtaSchema)
    hint = fields.String(validate=validate.OneOf(HINTS))

    @validates_schema
    def _renders(self, data: dict[str, Any], **_kwargs: Any) -> None:
        channel = CHANNELS[data["channel"]]
        if channel.subject and not data.get("subject"):
            raise ValidationError(f"{channel.named} needs a subject.", "subject")
        if not channel.hints and data.get("hint"):
            raise ValidationError("Only webhook messages take a delivery hint.", "hint")
        if problems := template_problems(data):
            raise ValidationError(problems)


class SendInput(ContactRefSchema):
    flow = FlowRef(required=True, metadata={"description": "The flow the message belongs to (its key or id)."})
    step = fields.String(validate=validate.Length(1, 110), metadata={
        "description": "A step of the flow: its key, or `<phase>.<key>`.", "example": "pick-up"})
    phase = fields.Integer(validate=validate.Range(1, 5), metadata={
        "description": "Without `step` or `message`: the phase's first step; with `message`: the phase it counts in."})
    message = fields.Nested(WrittenSchema, metadata={"description": "Send this instead of a step of the flow."})
    idempotency_key = fields.String(validate=[SLUG, validate.Length(max=40)], metadata={
        "description": "The same key again answers the first message (use the Zap's or scenario's run id).",
        "example": "zap-run-8812"})

    @pre_load
    def _unfilled_message(self, data: Any, **_kwargs: Any) -> Any:
        """Make sends a group of fields left empty as `{}`: an empty message (or call to action) is none."""
        if not isinstance(data, dict) or not isinstance(data.get("message"), dict):
            return data
        message = {name: value for name, value in data["message"].items() if value != {}}
        rest = {name: value for name, value in data.items() if name != "message"}
        return {**rest, "message": message} if message else rest

    @validates_schema
    def _one_source(self, data: dict[str, Any], **_kwargs: Any) -> None:
        given = [name for name in ("step", "message") if name in data]
        if len(given) > 1:
            raise ValidationError("Give step or message, not both.", "message")
        if not given and "phase" not in data:
            raise ValidationError("Give step, phase or message.", "step")


class SendOutput(MessageSchema):
    created = fields.Boolean(metadata={"description": "False when this idempotency key or step already had a message."})


def perform(account_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Queue the message (or find the one already made for this step or key), then hand it to a send job."""
    message, created = db.retry_on_conflict(lambda: _queue(account_id, data))
    if created:
        queue.enqueue(send_messages, [message.id])
    found = db.session().get(Message, message.id, populate_existing=True)
    return {**{name: getattr(found, name) for name in MessageSchema().fields}, "created": created}


def _queue(account_id: int, data: dict[str, Any]) -> tuple[Message, bool]:
    db_session, now = db.session(), db.utcnow()
    flow = flows.find(account_id, data["flow"])
    contact = contacts.find(db_session, account_id, data)
    phase, step = _step(flow, data)
    key = data.get("idempotency_key")
    name = f"{phase}.{step['key']}" + (f"+{key}" if key else "")
    mine = (Message.account_id == account_id, Message.contact_id == contact.id, Message.flow_id == flow.id)
    if key and (found := db_session.scalar(select(Message).where(*mine, Message.step == name))) is not None:
        return found, False
    enrollment = db_session.scalar(select(Enrollment).where(
        Enrollment.flow_id == flow.id, Enrollment.contact_id == contact.id, Enrollment.status == "active"))
    if enrollment is None:
        # A message of its own: the enrollment completes once it has gone, and starts no cooldown of the flow.
        enrollment = Enrollment(account_id=account_id, flow_id=flow.id, contact_id=contact.id, holdout=False,
                                variants={}, source=enrollments.ONE_MESSAGE, started_at=now, status="active")
        db_session.add(enrollment)
        db_session.flush()
    found = db_session.scalar(select(Message).where(Message.enrollment_id == enrollment.id, Message.step == name))
    if found is not None:
        if found.status != "scheduled":
            return found, False
        found.due_at, found.status, found.queued_at = now, "queued", now  # the planned step goes now instead
        return found, True
    variant = enrollment.variants.get(f"{phase}.{step['key']}")
    # A written message, or a step sent under a key, carries its definition: the flow may change before it goes.
    written = "message" in data or key
    message = Message(account_id=account_id, enrollment_id=enrollment.id, flow_id=flow.id, contact_id=contact.id,
                      step=name, phase=phase, channel=step["channel"], variant=variant, status="queued",
                      planned_at=now, due_at=now, queued_at=now, attempts=0,
                      content={"written": readiness.variant_of(step, variant)} if written else {})
    db_session.add(message)
    db_session.flush()
    return message, True


def _step(flow: Flow, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """(phase, step definition) of what to send."""
    if "message" in data:
        # Under an idempotency key the name is fixed (the key makes it unique), otherwise every call is new.
        key = "send" if data.get("idempotency_key") else f"send-{uuid4().hex[:12]}"
        return data.get("phase", 1), {"key": key, **data["message"]}
    if "step" in data:
        phase_text, _, key = data["step"].rpartition(".")
        for number, phase in enumerate(flow.phases, start=1):
            if phase_text and phase_text != str(number):
                continue
            for step in phase["steps"]:
                if step["key"] == key:
                    return number, step
        raise ApiError(404, "not_found", f"Flow {flow.key!r} has no step {data['step']!r}.")
    steps = flow.phases[data["phase"] - 1]["steps"] if data["phase"] <= len(flow.phases) else []
    if not steps:
        raise ApiError(404, "not_found", f"Phase {data['phase']} of flow {flow.key!r} has no steps.")
    return data["phase"], steps[0]


ACTION = Action(
    key="send-phase-message",
    noun="Message",
    label="Send Phase Message",
    description="Send a contact one step of a flow (by step key, or the first step of a phase), or a subject and body "
                "you write, now: consent, suppressions, quiet hours and the frequency cap still apply, and a repeated "
                "`idempotency_key` answers the first message instead of sending again.",
    input=SendInput,
    output=SendOutput,
    sample={"id": 501, "enrollment_id": 12, "flow_id": 3, "contact_id": 42, "step": "1.pick-up", "phase": 1,
            "channel": "email", "variant": None, "status": "sent", "reason": None,
            "planned_at": "2026-11-21T15:00:00+00:00", "due_at": "2026-11-21T15:00:00+00:00", "moved_because": None,
            "attempts": 1, "queued_at": "2026-11-21T15:00:00+00:00", "sent_at": "2026-11-21T15:00:01+00:00",
            "delivered_at": None, "opened_at": None, "clicked_at": None, "provider": "sendgrid",
            "provider_id": "14c5d75ce93.dfd.64b469", "content": {"subject": "Your application is saved"},
            "created": True},
    perform=perform,
)
