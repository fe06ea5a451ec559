"""Closed-lost deals: record, list, look up, correct the analysis, add signals and outcomes."""

from sqlalchemy import delete, select

from reengage.models import Deal, DealSignal
from reengage.platform import db
from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from reengage.platform.errors import ApiError, invalid
from reengage.schemas.deal import (
    DealCorrectionSchema,
    DealInputSchema,
    DealQuerySchema,
    DealSchema,
    OutcomeInputSchema,
    SignalInputSchema,
)
from reengage.winback import deals

blp = Blueprint("deals", __name__, url_prefix="/v1",
                description="Closed-lost deals: why they were lost, whether and when to try again, and how.")
blp.before_request(authenticate)

FILTERS = {"priority": Deal.priority, "category": Deal.category, "status": Deal.status, "timing": Deal.timing,
           "owner": Deal.owner}


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
    query = select(Deal).where(Deal.account_id == account_id())
    for name, column in FILTERS.items():
        if name in filters:
            query = query.where(column == filters[name])
    if "ready" in filters:
        query = query.where(Deal.ready_at.is_not(None) if filters["ready"] else Deal.ready_at.is_(None))
    if "lost_since" in filters:
        query = query.where(Deal.lost_at >= filters["lost_since"])
    found = list(db.session().scalars(query.order_by(Deal.lost_at.desc(), Deal.id.desc()).limit(filters["limit"])))
    return deals.shown(found)


@blp.route("/deals/<int:deal_id>")
@blp.response(200, DealSchema)
def get_deal(deal_id):
    """One deal with its signals, outcomes, escalations and draft."""
    return deals.shown([_find(deal_id)])[0]


@blp.route("/deals/<int:deal_id>", methods=["PATCH"])
@blp.arguments(DealCorrectionSchema)
@blp.response(200, DealSchema)
def correct_deal(data, deal_id):
    """Correct the loss category; the correction is kept through later updates and syncs (null removes it)."""
    with db.transaction():
        deal = _find(deal_id)
        deals.correct(deal, data["category"], data.get("note"), db.utcnow())
    return deals.shown([deal])[0]


@blp.route("/deals/<int:deal_id>/signals", methods=["POST"])
@blp.arguments(SignalInputSchema)
@blp.response(200, DealSchema)
def add_signal(data, deal_id):
    """Record a signal since the loss (once per `id`); the deal is scored and timed again."""
    with db.transaction():
        deal = _find(deal_id)
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
        deal = _find(deal_id)
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
        deal = _find(deal_id)
        at = db.utcnow()
        _after_loss(deal, data)
        key = f"api-{data['id']}" if "id" in data else f"api-{at.isoformat()}-{data['type']}"
        deals.add_outcome(deal, data["type"], data.get("occurred_at") or at, "api", key, data.get("note"), at=at)
    return deals.shown([deal])[0]


def _after_loss(deal: Deal, data: dict) -> None:
    if data.get("occurred_at") and data["occurred_at"] < deal.lost_at:
        raise invalid({"occurred_at": [f"Is before the deal was lost ({deal.lost_at.isoformat()})."]})


def _find(deal_id: int) -> Deal:
    deal = db.session().scalar(select(Deal).where(Deal.id == deal_id, Deal.account_id == account_id()))
    if deal is None:
        raise ApiError(404, "not_found", f"No deal {deal_id} in this account.")
    return deal
