"""Detected dropoffs: list, look up, dismiss."""

from sqlalchemy import select

from reengage.models import Dropoff
from reengage.platform import db
from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from reengage.platform.errors import ApiError
from reengage.schemas.dropoff import DropoffQuerySchema, DropoffSchema
from reengage.sequencing import enrollments

blp = Blueprint("dropoffs", __name__, url_prefix="/v1", description="People detected stopping short.")
blp.before_request(authenticate)

FILTERS = {"scenario": Dropoff.scenario, "stage": Dropoff.stage, "rule": Dropoff.rule_key,
           "intent": Dropoff.intent, "status": Dropoff.status, "contact_id": Dropoff.contact_id}


@blp.route("/dropoffs")
@blp.arguments(DropoffQuerySchema, location="query")
@blp.response(200, DropoffSchema(many=True))
def list_dropoffs(filters):
    """This account's dropoffs, newest first, matching every filter given (none is `[]`)."""
    query = select(Dropoff).where(Dropoff.account_id == account_id())
    for name, column in FILTERS.items():
        if name in filters:
            query = query.where(column == filters[name])
    if "ready" in filters:
        query = query.where(Dropoff.ready_at.is_not(None) if filters["ready"] else Dropoff.ready_at.is_(None))
    if "since" in filters:
        query = query.where(Dropoff.detected_at >= filters["since"])
    query = query.order_by(Dropoff.detected_at.desc(), Dropoff.id.desc()).limit(filters["limit"])
    return db.session().scalars(query).all()


@blp.route("/dropoffs/<int:dropoff_id>")
@blp.response(200, DropoffSchema)
def get_dropoff(dropoff_id):
    """One dropoff."""
    return _find(dropoff_id)


@blp.route("/dropoffs/<int:dropoff_id>/dismiss", methods=["POST"])
@blp.response(200, DropoffSchema)
def dismiss_dropoff(dropoff_id):
    """Dismiss an open or enrolled dropoff (no outreach); dismissing twice changes nothing."""
    with db.transaction():
        dropoff = _find(dropoff_id)
        if dropoff.status == "recovered":
            raise ApiError(409, "conflict", f"Dropoff {dropoff_id} is recovered; it cannot be dismissed.")
        if dropoff.status != "dismissed":
            dropoff.status, dropoff.dismissed_at = "dismissed", db.utcnow()
            enrollments.on_dismissed(dropoff.id, dropoff.dismissed_at)
    return dropoff


def _find(dropoff_id: int) -> Dropoff:
    dropoff = db.session().scalar(
        select(Dropoff).where(Dropoff.id == dropoff_id, Dropoff.account_id == account_id())
    )
    if dropoff is None:
        raise ApiError(404, "not_found", f"No dropoff {dropoff_id} in this account.")
    return dropoff
