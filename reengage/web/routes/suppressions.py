"""Suppression lists: contacts who get nothing more on a channel."""


from reengage.models import Contact, Suppression
from reengage.platform import db
from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from reengage.schemas.enrollment import SuppressionInputSchema, SuppressionQuerySchema, SuppressionSchema
from reengage.sequencing import enrollments
from reengage.web.routes.common import listed, owned_or_404, scoped
from triggers.polling import equal

blp = Blueprint("suppressions", __name__, url_prefix="/v1", description="Who must not be messaged, per channel.")
blp.before_request(authenticate)
FILTERS = {"contact_id": equal(Suppression.contact_id), "channel": equal(Suppression.channel)}


@blp.route("/suppressions")
@blp.arguments(SuppressionQuerySchema, location="query")
@blp.response(200, SuppressionSchema(many=True))
def list_suppressions(filters):
    """This account's suppressions, newest first."""
    return listed(Suppression, filters, FILTERS, Suppression.id.desc())


@blp.route("/suppressions", methods=["POST"])
@blp.arguments(SuppressionInputSchema)
@blp.response(201, SuppressionSchema)
def create_suppression(data):
    """Suppress a contact on a channel; their active enrollments exit. Suppressing twice keeps the first."""
    with db.transaction() as db_session:
        contact = owned_or_404(Contact, data["contact_id"]).id
        enrollments.suppress(account_id(), contact, data["channel"], data["reason"], db.utcnow())
        return db_session.scalar(scoped(Suppression, Suppression.contact_id == contact,
                                        Suppression.channel == data["channel"]))


@blp.route("/suppressions/<int:suppression_id>", methods=["DELETE"])
@blp.response(204)
def delete_suppression(suppression_id):
    """Lift a suppression (when the contact asked to hear from you again); enrollments that exited stay exited."""
    with db.transaction() as db_session:
        db_session.delete(owned_or_404(Suppression, suppression_id))
