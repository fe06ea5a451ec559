"""Win-back results: the seed's funnel figures for lost deals."""

from datetime import UTC

from marshmallow import RAISE, Schema, fields, validate

from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from reengage.winback import metrics
from reengage.winback.analysis import CATEGORIES

blp = Blueprint("winback", __name__, url_prefix="/v1", description="How win-backs of lost deals are going.")
blp.before_request(authenticate)


class WinbackMetricsQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    lost_from = fields.AwareDateTime(default_timezone=UTC, metadata={"description": "Deals lost at or after this."})
    lost_to = fields.AwareDateTime(default_timezone=UTC, metadata={"description": "Deals lost before this."})
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    owner = fields.String()
    group_by = fields.String(validate=validate.OneOf(metrics.GROUPS))


class WinbackFiguresSchema(Schema):
    deals = fields.Integer()
    contacted = fields.Integer()
    replied = fields.Integer()
    meetings = fields.Integer()
    opportunities = fields.Integer()
    won = fields.Integer()
    re_engagement_rate = fields.Float(allow_none=True, metadata={"description": "replied / contacted"})
    meeting_conversion = fields.Float(allow_none=True, metadata={"description": "meetings / replied"})
    opportunity_creation = fields.Float(allow_none=True, metadata={"description": "opportunities / meetings"})
    win_rate = fields.Float(allow_none=True, metadata={"description": "won / opportunities"})
    time_to_re_engagement_days = fields.Float(allow_none=True, metadata={
        "description": "Mean days from the loss to the first reply."})


class WinbackGroupFiguresSchema(WinbackFiguresSchema):
    group = fields.String(allow_none=True)


class WinbackMetricsSchema(Schema):
    overall = fields.Nested(WinbackFiguresSchema)
    groups = fields.List(fields.Nested(WinbackGroupFiguresSchema))


@blp.route("/winback/metrics")
@blp.arguments(WinbackMetricsQuerySchema, location="query")
@blp.response(200, WinbackMetricsSchema)
def winback_metrics(filters):
    """Re-engagement rate, meeting conversion, opportunity creation, win rate and time to re-engagement."""
    return metrics.metrics(account_id(), filters)
