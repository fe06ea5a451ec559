"""Suppression lists: contacts who get nothing more on a channel."""

from sqlalchemy import select

from reengage.models import Contact, Suppression
from reengage.platform import db
from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from reengage.platform.errors import ApiError
from reengage.schemas.enrollment import SuppressionInputSchema, SuppressionQuerySchema, SuppressionSchema
from reengage.sequencing import enrollments

blp = Blueprint("suppressions", __name__, url_prefix="/v1", description="Who must not be messaged, per channel.")
blp.before_request(authenticate)


@blp.route("/suppressions")
@blp.arguments(SuppressionQuerySchema, location="query")
@blp.response(200, SuppressionSchema(many=True))
def list_suppressions(filters):
    """This account's suppressions, newest first."""
    query = select(Suppression).where(Suppression.account_id == account_id())
    for name in ("contact_id", "channel"):
        if name in filters:
            query = query.where(getattr(Suppression, name) == filters[name])
    return db.session().scalars(query.order_by(Suppression.id.desc()).limit(filters["limit"])).all()


@blp.route("/suppressions", methods=["POST"])
@blp.arguments(SuppressionInputSchema)
@blp.response(201, SuppressionSchema)
def create_suppression(data):
    """Suppress a contact on a channel; their active enrollments exit. Suppressing twice keeps the first."""
    with db.transaction() as db_session:
        contact = db_session.scalar(select(Contact.id).where(Contact.account_id == account_id(),
                                                             Contact.id == data["contact_id"]))
        if contact is None:
            raise ApiError(404, "not_found", f"No contact {data['contact_id']} in this account.")
        enrollments.suppress(account_id(), contact, data["channel"], data["reason"], db.utcnow())
        return db_session.scalar(select(Suppression).where(
            Suppression.account_id == account_id(), Suppression.contact_id == contact,
            Suppression.channel == data["channel"]))


@blp.route("/suppressions/<int:suppression_id>", methods=["DELETE"])
@blp.response(204)
def delete_suppression(suppression_id):
    """Lift a suppression (when the contact asked to hear from you again); enrollments that exited stay exited."""
    with db.transaction() as db_session:
        suppression = db_session.scalar(select(Suppression).where(Suppression.account_id == account_id(),
                                                                  Suppression.id == suppression_id))
        if suppression is None:
            raise ApiError(404, "not_found", f"No suppression {suppression_id} in this account.")
        db_session.delete(suppression)
