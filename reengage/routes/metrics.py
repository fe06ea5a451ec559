"""Results: recovery metrics for a period, filtered and grouped."""

from datetime import UTC

from marshmallow import RAISE, Schema, fields, validate

from reengage import db, durations
from reengage.api import Blueprint
from reengage.auth import account_id, authenticate
from reengage.models import Account
from reengage.results import metrics
from reengage.schedule import effective

blp = Blueprint("metrics", __name__, url_prefix="/v1", description="What came back: recovery metrics.")
blp.before_request(authenticate)


class MetricsQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    from_ = fields.AwareDateTime(data_key="from", attribute="from", default_timezone=UTC, metadata={
        "description": "Dropoffs detected at or after this."})
    to = fields.AwareDateTime(default_timezone=UTC, metadata={"description": "Dropoffs detected before this."})
    scenario = fields.String()
    stage = fields.String()
    rule = fields.String()
    flow = fields.String(metadata={"description": "A flow's key."})
    phase = fields.Integer(validate=validate.Range(1, 5))
    channel = fields.String()
    variant = fields.String()
    group_by = fields.String(validate=validate.OneOf(metrics.GROUPS))


class MetricsRowSchema(Schema):
    group = fields.Raw(allow_none=True, metadata={"description": "The group's value (null without group_by)."})
    dropoffs = fields.Integer()
    enrolled = fields.Integer()
    messages_sent = fields.Integer()
    delivered = fields.Integer()
    opened = fields.Integer()
    clicked = fields.Integer()
    re_engaged = fields.Integer(metadata={"description": "Dropoffs whose messages were opened or clicked."})
    recovered = fields.Integer()
    recovery_rate = fields.Float(allow_none=True)
    revenue = fields.Float()
    cost = fields.Float()
    cost_per_recovery = fields.Float(allow_none=True)
    median_time_to_first_touch_seconds = fields.Float(allow_none=True)
    median_time_to_recovery_seconds = fields.Float(allow_none=True)


@blp.route("/metrics")
@blp.arguments(MetricsQuerySchema, location="query")
@blp.response(200, MetricsRowSchema(many=True))
def get_metrics(filters):
    """Dropoffs, messages, engagement, recoveries, revenue and cost, per group (one row without group_by)."""
    account = db.session().get(Account, account_id())
    stored = effective(account.settings, None)["metrics"]
    settings = {**stored, "attribution_window": durations.parse(stored["attribution_window"])}
    return metrics.metrics(account.id, filters, settings)
