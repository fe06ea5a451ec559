"""Enrollments and their messages, and the outbox of emails kept while no SendGrid account is connected."""

from sqlalchemy import select

from reengage.models import Enrollment, Message
from reengage.platform import db
from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from reengage.platform.errors import ApiError
from reengage.schemas.enrollment import (
    EnrollmentDetailSchema,
    EnrollmentQuerySchema,
    EnrollmentSchema,
    MessageQuerySchema,
    MessageSchema,
    OutboxItemSchema,
    OutboxQuerySchema,
)

blp = Blueprint("enrollments", __name__, url_prefix="/v1", description="Contacts in flows, and what was sent.")
blp.before_request(authenticate)


@blp.route("/enrollments")
@blp.arguments(EnrollmentQuerySchema, location="query")
@blp.response(200, EnrollmentSchema(many=True))
def list_enrollments(filters):
    """This account's enrollments, newest first, matching every filter given."""
    query = select(Enrollment).where(Enrollment.account_id == account_id())
    for name in ("flow_id", "contact_id", "dropoff_id", "status"):
        if name in filters:
            query = query.where(getattr(Enrollment, name) == filters[name])
    return db.session().scalars(query.order_by(Enrollment.id.desc()).limit(filters["limit"])).all()


@blp.route("/enrollments/<int:enrollment_id>")
@blp.response(200, EnrollmentDetailSchema)
def get_enrollment(enrollment_id):
    """One enrollment with the history of its messages."""
    enrollment = db.session().scalar(select(Enrollment).where(Enrollment.account_id == account_id(),
                                                              Enrollment.id == enrollment_id))
    if enrollment is None:
        raise ApiError(404, "not_found", f"No enrollment {enrollment_id} in this account.")
    messages = db.session().scalars(select(Message).where(Message.enrollment_id == enrollment.id)
                                    .order_by(Message.due_at, Message.id)).all()
    return {**{name: getattr(enrollment, name) for name in EnrollmentSchema().fields}, "messages": messages}


@blp.route("/messages")
@blp.arguments(MessageQuerySchema, location="query")
@blp.response(200, MessageSchema(many=True))
def list_messages(filters):
    """This account's messages, newest first, matching every filter given."""
    query = select(Message).where(Message.account_id == account_id())
    for name in ("enrollment_id", "flow_id", "contact_id", "channel", "status", "phase"):
        if name in filters:
            query = query.where(getattr(Message, name) == filters[name])
    return db.session().scalars(query.order_by(Message.id.desc()).limit(filters["limit"])).all()


@blp.route("/messages/<int:message_id>")
@blp.response(200, MessageSchema)
def get_message(message_id):
    """One message."""
    message = db.session().scalar(select(Message).where(Message.account_id == account_id(), Message.id == message_id))
    if message is None:
        raise ApiError(404, "not_found", f"No message {message_id} in this account.")
    return message


@blp.route("/outbox")
@blp.arguments(OutboxQuerySchema, location="query")
@blp.response(200, OutboxItemSchema(many=True))
def list_outbox(filters):
    """Emails that went to the outbox (no SendGrid account connected), newest first, as they were rendered."""
    query = select(Message).where(Message.account_id == account_id(), Message.channel == "email",
                                  Message.provider == "outbox", Message.sent_at.is_not(None))
    if "contact_id" in filters:
        query = query.where(Message.contact_id == filters["contact_id"])
    query = query.order_by(Message.sent_at.desc(), Message.id.desc()).limit(filters["limit"])
    return [{**message.content, "message_id": message.id, "enrollment_id": message.enrollment_id,
             "sent_at": message.sent_at} for message in db.session().scalars(query)]
