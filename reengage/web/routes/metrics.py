"""Results: recovery metrics for a period, filtered and grouped (as JSON or CSV), A/B tests and holdout lift."""

import csv
import io
from datetime import UTC
from typing import Any

from flask import Response
from marshmallow import RAISE, Schema, fields, validate

from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from reengage.results import experiments, metrics, sendtime
from reengage.settings import metrics_of
from reengage.web.routes.common import caller_account

blp = Blueprint("metrics", __name__, url_prefix="/v1", description="What came back: recovery metrics.")
blp.before_request(authenticate)


class PeriodQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    from_ = fields.AwareDateTime(data_key="from", attribute="from", default_timezone=UTC, metadata={
        "description": "Dropoffs detected at or after this."})
    to = fields.AwareDateTime(default_timezone=UTC, metadata={"description": "Dropoffs detected before this."})
    scenario = fields.String()
    stage = fields.String()
    rule = fields.String()
    flow = fields.String(metadata={"description": "A flow's key."})


class MetricsQuerySchema(PeriodQuerySchema):
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
    opened = fields.Integer(metadata={"description": "Messages opened by a person (machine opens not counted)."})
    clicked = fields.Integer()
    machine_opened = fields.Integer(metadata={
        "description": "Messages opened only by a mail privacy proxy that loads every image (SendGrid's "
                       "`sg_machine_open`, e.g. Apple Mail Privacy Protection): not engagement."})
    re_engaged = fields.Integer(metadata={"description": "Dropoffs whose messages were opened or clicked."})
    recovered = fields.Integer()
    recovery_rate = fields.Float(allow_none=True)
    revenue = fields.Float()
    cost = fields.Float()
    cost_per_recovery = fields.Float(allow_none=True)
    median_time_to_first_touch_seconds = fields.Float(allow_none=True)
    median_time_to_recovery_seconds = fields.Float(allow_none=True)


class TestSchema(Schema):
    z = fields.Float(allow_none=True)
    p_value = fields.Float(allow_none=True, metadata={"description": "Two-sided, of the two-proportion z-test."})
    verdict = fields.String(metadata={"example": "B is better with 97.2% confidence"})


class CurrencyRevenueSchema(Schema):
    currency = fields.String(allow_none=True, metadata={"example": "USD"})
    revenue = fields.Float()


class VariantResultSchema(Schema):
    variant = fields.String()
    sent = fields.Integer(metadata={"description": "Contacts the variant went to."})
    clicked = fields.Integer()
    click_rate = fields.Float(allow_none=True)
    recovered = fields.Integer(metadata={"description": "Of them, recovered within the attribution window."})
    recovery_rate = fields.Float(allow_none=True)
    revenue = fields.Float(allow_none=True, metadata={
        "description": "Revenue of its recoveries; null when they are in more than one currency (see "
                       "`revenue_by_currency`): amounts in different currencies are never added up."})
    revenue_by_currency = fields.List(fields.Nested(CurrencyRevenueSchema), metadata={
        "description": "Revenue of its recoveries per currency (the dropoff's; null when none was given)."})
    recovery_test = fields.Nested(TestSchema, allow_none=True, metadata={
        "description": "Recovery rate against the control (null for the control itself)."})
    click_test = fields.Nested(TestSchema, allow_none=True)


class AbTestSchema(Schema):
    flow = fields.String()
    flow_name = fields.String()
    phase = fields.Integer()
    step = fields.String(metadata={"example": "1.pick-up"})
    control = fields.String(metadata={"description": "The step itself, which the other variants are compared with."})
    verdict = fields.String(metadata={"description": "The recovery verdict of the variant furthest from the control."})
    variants = fields.List(fields.Nested(VariantResultSchema))


class GroupResultSchema(Schema):
    enrolled = fields.Integer()
    recovered = fields.Integer()
    recovery_rate = fields.Float(allow_none=True)
    revenue = fields.Float()


class LiftSchema(Schema):
    absolute = fields.Float(allow_none=True, metadata={"description": "Treated rate less held-out rate."})
    relative = fields.Float(allow_none=True, metadata={"description": "The absolute lift over the held-out rate."})
    low = fields.Float(allow_none=True, metadata={"description": "Lower end of the interval of the absolute lift."})
    high = fields.Float(allow_none=True)
    confidence = fields.Float()


class HoldoutResultSchema(Schema):
    flow = fields.String()
    flow_name = fields.String()
    holdout_percent = fields.Integer()
    treated = fields.Nested(GroupResultSchema)
    held_out = fields.Nested(GroupResultSchema)
    lift = fields.Nested(LiftSchema)
    p_value = fields.Float(allow_none=True)
    verdict = fields.String(metadata={"example": "treated is better with 99.1% confidence"})
    incremental_revenue = fields.Float(allow_none=True, metadata={
        "description": "Treated revenue less the held-out revenue per contact times the treated contacts."})


class SendTimeGroupSchema(Schema):
    enrolled = fields.Integer()
    recovered = fields.Integer()
    recovery_rate = fields.Float(allow_none=True)


class SendTimeResultSchema(Schema):
    flow = fields.String()
    flow_name = fields.String()
    learned = fields.Nested(SendTimeGroupSchema, metadata={"description": "Sent at the learned hour."})
    first_slot = fields.Nested(SendTimeGroupSchema, metadata={"description": "Kept on the window's first slot."})
    lift = fields.Nested(LiftSchema, metadata={"description": "Learned rate less first-slot rate."})
    p_value = fields.Float(allow_none=True)
    verdict = fields.String(metadata={"example": "no difference yet"})


@blp.route("/metrics")
@blp.arguments(MetricsQuerySchema, location="query")
@blp.response(200, MetricsRowSchema(many=True))
def get_metrics(filters):
    """Dropoffs, messages, engagement, recoveries, revenue and cost, per group (one row without group_by)."""
    return metrics.metrics(account_id(), filters)


@blp.route("/metrics.csv")
@blp.arguments(MetricsQuerySchema, location="query")
@blp.doc(responses={"200": {"description": "The same rows as `GET /v1/metrics`, one line each, with a header.",
                            "content": {"text/csv": {"schema": {"type": "string"}}}}})
def get_metrics_csv(filters):
    """The metrics as CSV, for a spreadsheet."""
    return csv_of(metrics.metrics(account_id(), filters))


@blp.route("/metrics/ab-tests")
@blp.arguments(PeriodQuerySchema, location="query")
@blp.response(200, AbTestSchema(many=True))
def get_ab_tests(filters):
    """Each step with variants: per variant, click and recovery rates and the test against the control."""
    account = caller_account()
    return experiments.ab_tests(account.id, filters, metrics_of(account)["attribution_window"])


@blp.route("/metrics/holdout")
@blp.arguments(PeriodQuerySchema, location="query")
@blp.response(200, HoldoutResultSchema(many=True))
def get_holdout(filters):
    """Each flow: recovery rate treated against held out, the lift with its 95% interval, incremental revenue."""
    return experiments.holdout(account_id(), filters)


@blp.route("/metrics/send-time")
@blp.arguments(PeriodQuerySchema, location="query")
@blp.response(200, SendTimeResultSchema(many=True))
def get_send_time(filters):
    """Each flow that learns send times: recovery at the learned hour against the window's first slot, with lift."""
    return sendtime.comparison(account_id(), filters)


def csv_of(rows: list[dict[str, Any]]) -> Response:
    """Metrics rows as a CSV download: a header, then one line per row, empty where a figure is null."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(MetricsRowSchema().fields), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({name: "" if value is None else value for name, value in row.items()}
                     for row in MetricsRowSchema(many=True).dump(rows))
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="reengage-metrics.csv"'})
