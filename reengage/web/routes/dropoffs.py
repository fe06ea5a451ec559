"""Detected dropoffs: list, look up, dismiss."""

from reengage.models import Dropoff
from reengage.platform import db
from reengage.platform.auth import authenticate
from reengage.platform.blueprint import Blueprint
from reengage.platform.errors import ApiError
from reengage.schemas.dropoff import DropoffQuerySchema, DropoffSchema
from reengage.sequencing import enrollments
from reengage.web.routes.common import at_or_after, is_set, listed, owned_or_404
from triggers.polling import equal

blp = Blueprint("dropoffs", __name__, url_prefix="/v1", description="People detected stopping short.")
blp.before_request(authenticate)

FILTERS = {"scenario": equal(Dropoff.scenario), "stage": equal(Dropoff.stage), "rule": equal(Dropoff.rule_key),
           "intent": equal(Dropoff.intent), "status": equal(Dropoff.status), "contact_id": equal(Dropoff.contact_id),
           "ready": is_set(Dropoff.ready_at), "since": at_or_after(Dropoff.detected_at)}


@blp.route("/dropoffs")
@blp.arguments(DropoffQuerySchema, location="query")
@blp.response(200, DropoffSchema(many=True))
def list_dropoffs(filters):
    """This account's dropoffs, newest first, matching every filter given (none is `[]`)."""
    return listed(Dropoff, filters, FILTERS, Dropoff.detected_at.desc(), Dropoff.id.desc())


@blp.route("/dropoffs/<int:dropoff_id>")
@blp.response(200, DropoffSchema)
def get_dropoff(dropoff_id):
    """One dropoff."""
    return owned_or_404(Dropoff, dropoff_id)


@blp.route("/dropoffs/<int:dropoff_id>/dismiss", methods=["POST"])
@blp.response(200, DropoffSchema)
def dismiss_dropoff(dropoff_id):
    """Dismiss an open or enrolled dropoff (no outreach); dismissing twice changes nothing."""
    return dismiss(dropoff_id)


def dismiss(dropoff_id: int) -> Dropoff:
    """Dismiss the caller's dropoff (its enrollment exits); 409 once it is recovered."""
    with db.transaction():
        dropoff = owned_or_404(Dropoff, dropoff_id)
        if dropoff.status in ("recovered", "retracted"):
            raise ApiError(409, "conflict", f"Dropoff {dropoff_id} is {dropoff.status}; it cannot be dismissed.")
        if dropoff.status != "dismissed":
            dropoff.status, dropoff.dismissed_at = "dismissed", db.utcnow()
            enrollments.on_dismissed(dropoff.id, dropoff.dismissed_at)
    return dropoff
