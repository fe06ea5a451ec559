"""Settings: their defaults, the schemas that check them, and the settings in effect for an account or flow."""

from datetime import time
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates, validates_schema

from reengage.channels import CHANNELS
from reengage.models import Account, Flow
from reengage.platform import db, durations, timing
from reengage.platform.fields import Country, Duration, Timezone

# Channels a message can be priced on. "sms" is no channel of ours (an SMS goes out as a webhook message), but
# costs have always accepted it, so settings saved with it stay valid; no message is priced by it.
COSTED = [*CHANNELS, "sms"]
CLOCK = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="Use 24-hour HH:MM, e.g. '09:00'.")
CLOSING = validate.Regexp(rf"^(([01]\d|2[0-3]):[0-5]\d|{timing.END_OF_DAY})$",
                          error=f"Use 24-hour HH:MM, e.g. '18:00', or '{timing.END_OF_DAY}' for midnight.")


class SendWindowSchema(Schema):
    """The local hours and weekdays when messages may go."""

    class Meta:
        unknown = RAISE

    start = fields.String(required=True, validate=CLOCK, metadata={"example": "09:00"})
    end = fields.String(required=True, validate=CLOSING, metadata={
        "description": f"Exclusive; '{timing.END_OF_DAY}' keeps the window open until midnight.", "example": "18:00"})
    days = fields.List(fields.String(validate=validate.OneOf(timing.WEEKDAYS)), required=True,
                       validate=validate.Length(1, 7), metadata={"example": ["mon", "tue", "wed", "thu", "fri"]})

    @validates_schema
    def _ordered(self, data: dict, **_kwargs) -> None:
        if ("start" in data and data.get("end", timing.END_OF_DAY) != timing.END_OF_DAY
                and time.fromisoformat(data["end"]) <= time.fromisoformat(data["start"])):
            raise ValidationError("Must be later than start.", "end")

    @post_load
    def _unique_days(self, data: dict, **_kwargs) -> dict:
        data["days"] = [day for day in timing.WEEKDAYS if day in data["days"]]
        return data


class FrequencyCapSchema(Schema):
    """At most `messages` to one contact on one channel in any span of `per`, across every flow."""

    class Meta:
        unknown = RAISE

    messages = fields.Integer(required=True, validate=validate.Range(1, 100), metadata={"example": 1})
    per = Duration(required=True, metadata={"example": "PT24H"})


class CustomerStorySchema(Schema):
    """A customer's success a win-back draft can cite."""

    class Meta:
        unknown = RAISE

    customer = fields.String(required=True, validate=validate.Length(1, 100), metadata={"example": "Acme Corp"})
    industry = fields.String(validate=validate.Length(1, 100), metadata={
        "description": "Drafts for deals in this industry cite this story first.", "example": "Analytics"})
    outcome = fields.String(required=True, validate=validate.Length(1, 300), metadata={
        "example": "cut reporting delays from hours to seconds"})


class WinbackSettingsSchema(Schema):
    """Closed-lost win-back: escalation thresholds and the stories drafts cite."""

    class Meta:
        unknown = RAISE

    executive_arr_threshold = fields.Float(load_default=500_000.0, validate=validate.Range(0), metadata={
        "description": "Deals whose ARR potential (ARR, else amount) is above this get an executive."})
    failed_attempts_for_review = fields.Integer(load_default=2, validate=validate.Range(1, 100), metadata={
        "description": "Failed win-back attempts (no response or declined) that send a deal to strategy review."})
    customer_stories = fields.List(fields.Nested(CustomerStorySchema), load_default=list,
                                   validate=validate.Length(max=50))


class MetricsSettingsSchema(Schema):
    """How results are counted: the attribution window and what a message costs on each channel."""

    class Meta:
        unknown = RAISE

    attribution_window = Duration(load_default="P7D", metadata={
        "description": "A recovery is credited to the last message sent at most this long before it.",
        "example": "P7D"})
    costs = fields.Dict(keys=fields.String(validate=validate.OneOf(COSTED)),
                        values=fields.Float(validate=validate.Range(0, 1000)), load_default=dict, metadata={
                            "description": "Cost of one message per channel, in the account's currency; each message "
                                           "keeps the cost of its channel when it is sent.",
                            "example": {"email": 0.001, "sms": 0.0079}})


class SendTimeSchema(Schema):
    """Send-time learning: steps a day or more apart go at the contact's best hour, compared on a holdout share."""

    class Meta:
        unknown = RAISE

    learn = fields.Boolean(required=True, metadata={
        "description": "Send steps whose offset is whole days at the hour the contact engages most (inside the "
                       "send window); false keeps the planned time.", "example": True})
    holdout_percent = fields.Integer(load_default=20, validate=validate.Range(0, 50), metadata={
        "description": "The share of enrollments that get the window's first slot instead, for the comparison.",
        "example": 20})


class FlowSettingsSchema(Schema):
    """What a flow may set for itself, over its account's settings."""

    class Meta:
        unknown = RAISE

    send_window = fields.Nested(SendWindowSchema)
    send_time = fields.Nested(SendTimeSchema)
    skip_holidays = fields.Boolean(metadata={"description": "Move sends off public holidays."})
    cooldown = Duration(metadata={"description": "How long after an enrollment ends before the same flow may "
                                                 "start again for the contact.", "example": "P30D"})
    app_url = fields.Url(schemes={"https", "http"}, metadata={
        "description": "Where calls to action lead when the dropoff's event gave no deep link.",
        "example": "https://app.example.com/resume"})


class AccountSettingsSchema(FlowSettingsSchema):
    """An account's settings: the defaults of every flow, and what holds across flows."""

    timezone = Timezone(metadata={"description": "For contacts without a time zone of their own.",
                                  "example": "America/New_York"})
    country = Country(allow_none=True, metadata={
        "description": "Whose public holidays to skip for contacts without a country of their own.", "example": "US"})
    frequency_cap = fields.Nested(FrequencyCapSchema)
    winback = fields.Nested(WinbackSettingsSchema)
    metrics = fields.Nested(MetricsSettingsSchema)

    @validates("country")
    def _known_country(self, value: str | None, **_kwargs) -> None:
        if value is not None and not timing.supported_country(value):
            raise ValidationError(f"No public holiday calendar for {value!r}.")


DEFAULTS = {
    "timezone": "UTC",
    "country": None,
    "send_window": {"start": "09:00", "end": "18:00", "days": ["mon", "tue", "wed", "thu", "fri"]},
    "skip_holidays": True,
    "frequency_cap": {"messages": 1, "per": "PT24H"},
    "cooldown": "P30D",
    "send_time": {"learn": False, "holdout_percent": 20},
    "app_url": None,
    "metrics": {"attribution_window": "P7D", "costs": {}},
    "winback": {"executive_arr_threshold": 500_000.0, "failed_attempts_for_review": 2, "customer_stories": []},
}


def effective(account_settings: dict, flow: Flow | None) -> dict:
    """The defaults, overridden by the account's settings, overridden by the flow's."""
    return {**DEFAULTS, **(account_settings or {}), **((flow.settings if flow else None) or {})}


def metrics_of(account: Account) -> dict[str, Any]:
    """The account's metrics settings, with the attribution window as a timedelta."""
    stored = effective(account.settings, None)["metrics"]
    return {**stored, "attribution_window": durations.parse(stored["attribution_window"])}


def winback_of(account_id: int) -> tuple[dict, str]:
    """The account's win-back settings and its name."""
    account = db.session().get_one(Account, account_id)
    return effective(account.settings, None)["winback"], account.name
