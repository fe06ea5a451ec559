"""Closed-lost deals: record, list, look up, correct the analysis, add signals and outcomes."""

from sqlalchemy import delete

from reengage.models import Deal, DealSignal
from reengage.platform import db
from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from reengage.platform.errors import ApiError, field_error
from reengage.schemas.deal import (
    DealCorrectionSchema,
    DealInputSchema,
    DealQuerySchema,
    DealSchema,
    OutcomeInputSchema,
    SignalInputSchema,
)
from reengage.web.routes.common import at_or_after, is_set, listed, owned_or_404
from reengage.winback import deals
from triggers.polling import equal

blp = Blueprint("deals", __name__, url_prefix="/v1",
                description="Closed-lost deals: why they were lost, whether and when to try again, and how.")
blp.before_request(authenticate)

FILTERS = {"priority": equal(Deal.priority), "category": equal(Deal.category), "status": equal(Deal.status),
           "timing": equal(Deal.timing), "owner": equal(Deal.owner), "ready": is_set(Deal.ready_at),
           "lost_since": at_or_after(Deal.lost_at)}


@blp.route("/deals", methods=["POST"])
@blp.arguments(DealInputSchema)
@blp.response(200, DealSchema)
def upsert_deal(data):
    """Record a lost deal, or update it by `external_id`; answers it analysed, scored and timed."""
    deal, _ = db.retry_on_conflict(lambda: deals.upsert(account_id(), data, "api", db.utcnow()))
    return deals.shown([deal])[0]


@blp.route("/deals")
@blp.arguments(DealQuerySchema, location="query")
@blp.response(200, DealSchema(many=True))
def list_deals(filters):
    """This account's lost deals, most recently lost first, matching every filter given."""
    return deals.shown(list(listed(Deal, filters, FILTERS, Deal.lost_at.desc(), Deal.id.desc())))


@blp.route("/deals/<int:deal_id>")
@blp.response(200, DealSchema)
def get_deal(deal_id):
    """One deal with its signals, outcomes, escalations and draft."""
    return deals.shown([owned_or_404(Deal, deal_id)])[0]


@blp.route("/deals/<int:deal_id>", methods=["PATCH"])
@blp.arguments(DealCorrectionSchema)
@blp.response(200, DealSchema)
def correct_deal(data, deal_id):
    """Correct the loss category; the correction is kept through later updates and syncs (null removes it)."""
    with db.transaction():
        deal = owned_or_404(Deal, deal_id)
        deals.correct(deal, data["category"], data.get("note"), db.utcnow())
    return deals.shown([deal])[0]


@blp.route("/deals/<int:deal_id>/signals", methods=["POST"])
@blp.arguments(SignalInputSchema)
@blp.response(200, DealSchema)
def add_signal(data, deal_id):
    """Record a signal since the loss (once per `id`); the deal is scored and timed again."""
    with db.transaction():
        deal = owned_or_404(Deal, deal_id)
        at = db.utcnow()
        _after_loss(deal, data)
        key = f"api-{data['id']}" if "id" in data else f"api-{at.isoformat()}-{data['kind']}-{data['summary']}"
        deals.add_signal(deal, data["kind"], data["summary"], data.get("occurred_at") or at, "api", key, at=at)
    return deals.shown([deal])[0]


@blp.route("/deals/<int:deal_id>/signals/<int:signal_id>", methods=["DELETE"])
@blp.response(200, DealSchema)
def remove_signal(deal_id, signal_id):
    """Remove a signal recorded in error; the deal is scored and timed again (escalations raised stay)."""
    with db.transaction() as db_session:
        deal = owned_or_404(Deal, deal_id)
        removed = db_session.execute(delete(DealSignal).where(DealSignal.id == signal_id,
                                                              DealSignal.deal_id == deal.id)).rowcount
        if not removed:
            raise ApiError(404, "not_found", f"Deal {deal_id} has no signal {signal_id}.")
        deals.assess(deal, db.utcnow())
    return deals.shown([deal])[0]


@blp.route("/deals/<int:deal_id>/outcomes", methods=["POST"])
@blp.arguments(OutcomeInputSchema)
@blp.response(200, DealSchema)
def add_outcome(data, deal_id):
    """Record how the win-back went (once per `id`): an attempt, a failed attempt, a reply, a meeting, a win."""
    with db.transaction():
        deal = owned_or_404(Deal, deal_id)
        at = db.utcnow()
        _after_loss(deal, data)
        key = f"api-{data['id']}" if "id" in data else f"api-{at.isoformat()}-{data['type']}"
        deals.add_outcome(deal, data["type"], data.get("occurred_at") or at, "api", key, data.get("note"), at=at)
    return deals.shown([deal])[0]


def _after_loss(deal: Deal, data: dict) -> None:
    if data.get("occurred_at") and data["occurred_at"] < deal.lost_at:
        raise field_error("occurred_at", f"Is before the deal was lost ({deal.lost_at.isoformat()}).")

