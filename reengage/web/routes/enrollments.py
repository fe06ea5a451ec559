"""Enrollments and their messages, and the outbox of emails kept while no SendGrid account is connected."""

from sqlalchemy import select

from reengage.models import Enrollment, Message
from reengage.platform import db
from reengage.platform.auth import authenticate
from reengage.platform.blueprint import Blueprint
from reengage.schemas.enrollment import (
    EnrollmentDetailSchema,
    EnrollmentQuerySchema,
    EnrollmentSchema,
    MessageQuerySchema,
    MessageSchema,
    OutboxItemSchema,
    OutboxQuerySchema,
)
from reengage.web.routes.common import listed, owned_or_404
from triggers.polling import equal

blp = Blueprint("enrollments", __name__, url_prefix="/v1", description="Contacts in flows, and what was sent.")
blp.before_request(authenticate)

ENROLLMENT_FILTERS = {name: equal(getattr(Enrollment, name))
                      for name in ("flow_id", "contact_id", "dropoff_id", "status")}
MESSAGE_FILTERS = {name: equal(getattr(Message, name))
                   for name in ("enrollment_id", "flow_id", "contact_id", "channel", "status", "phase")}
OUTBOX_FILTERS = {"contact_id": equal(Message.contact_id)}
# Emails rendered and kept instead of sent: no SendGrid account was connected.
IN_OUTBOX = (Message.channel == "email", Message.provider == "outbox", Message.sent_at.is_not(None))


@blp.route("/enrollments")
@blp.arguments(EnrollmentQuerySchema, location="query")
@blp.response(200, EnrollmentSchema(many=True))
def list_enrollments(filters):
    """This account's enrollments, newest first, matching every filter given."""
    return listed(Enrollment, filters, ENROLLMENT_FILTERS, Enrollment.id.desc())


@blp.route("/enrollments/<int:enrollment_id>")
@blp.response(200, EnrollmentDetailSchema)
def get_enrollment(enrollment_id):
    """One enrollment with the history of its messages."""
    enrollment = owned_or_404(Enrollment, enrollment_id)
    messages = db.session().scalars(select(Message).where(Message.enrollment_id == enrollment.id)
                                    .order_by(Message.due_at, Message.id)).all()
    return {**{name: getattr(enrollment, name) for name in EnrollmentSchema().fields}, "messages": messages}


@blp.route("/messages")
@blp.arguments(MessageQuerySchema, location="query")
@blp.response(200, MessageSchema(many=True))
def list_messages(filters):
    """This account's messages, newest first, matching every filter given."""
    return listed(Message, filters, MESSAGE_FILTERS, Message.id.desc())


@blp.route("/messages/<int:message_id>")
@blp.response(200, MessageSchema)
def get_message(message_id):
    """One message."""
    return owned_or_404(Message, message_id)


@blp.route("/outbox")
@blp.arguments(OutboxQuerySchema, location="query")
@blp.response(200, OutboxItemSchema(many=True))
def list_outbox(filters):
    """Emails that went to the outbox (no SendGrid account connected), newest first, as they were rendered."""
    kept = listed(Message, filters, OUTBOX_FILTERS, Message.sent_at.desc(), Message.id.desc(), where=IN_OUTBOX)
    return [{**message.content, "message_id": message.id, "enrollment_id": message.enrollment_id,
             "sent_at": message.sent_at} for message in kept]
