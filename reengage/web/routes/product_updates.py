"""Product updates: what shipped, and the lost deals whose gap each one closes."""

from sqlalchemy import func, select

from reengage.models import DealSignal, ProductUpdate
from reengage.platform import db
from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from reengage.schemas.deal import ProductUpdateInputSchema, ProductUpdateSchema
from reengage.web.routes.common import scoped
from reengage.winback import deals

blp = Blueprint("product_updates", __name__, url_prefix="/v1",
                description="Product changes, matched to the lost deals whose gap they close.")
blp.before_request(authenticate)


@blp.route("/product-updates", methods=["POST"])
@blp.arguments(ProductUpdateInputSchema)
@blp.response(201, ProductUpdateSchema)
def create_product_update(data):
    """Record a product update; every deal lost before it with a matching gap gets a signal and is rescored."""
    with db.transaction() as db_session:
        at = db.utcnow()
        update = ProductUpdate(account_id=account_id(), name=data["name"], summary=data.get("summary"),
                               gaps=data["gaps"], released_at=data.get("released_at") or at, url=data.get("url"),
                               created_at=at)
        db_session.add(update)
        db_session.flush()
        deals.match_update(update)
    return _shown([update])[0]


@blp.route("/product-updates")
@blp.response(200, ProductUpdateSchema(many=True))
def list_product_updates():
    """This account's product updates, newest first, with how many lost deals each one matched."""
    found = list(db.session().scalars(scoped(ProductUpdate).order_by(ProductUpdate.released_at.desc(),
                                                                     ProductUpdate.id.desc()).limit(500)))
    return _shown(found)


def _shown(updates: list[ProductUpdate]) -> list[dict]:
    ids = [update.id for update in updates]
    counts = dict(db.session().execute(select(DealSignal.product_update_id, func.count()).where(
        DealSignal.product_update_id.in_(ids)).group_by(DealSignal.product_update_id)).all()) if ids else {}
    return [{**db.columns(update), "matched_deals": counts.get(update.id, 0)} for update in updates]
