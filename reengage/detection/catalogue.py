"""The built-in scenario catalogue, and the default rules every account starts with."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reengage.detection.detectors import DETECTORS
from reengage.models import Rule


@dataclass(frozen=True)
class Scenario:
    """A catalogued kind of dropoff; `kind` is the rule kind that detects it."""

    key: str
    family: str
    name: str
    stage: str
    kind: str


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("lead_magnet.downloaded_not_consumed", "lead_magnet", "Downloaded, not consumed", "lead", "inactivity"),
    Scenario("lead_magnet.consumed_no_next_step", "lead_magnet", "Consumed, no next step", "lead", "inactivity"),
    Scenario("lead_magnet.engaged_no_call", "lead_magnet", "Engaged, no call booked", "lead", "inactivity"),
    Scenario("sales.application_abandoned", "sales", "Application started, not completed", "sales", "inactivity"),
    Scenario("sales.call_no_show", "sales", "Call booked, no-show", "sales", "inactivity"),
    Scenario("sales.consulted_no_purchase", "sales", "Consulted, no purchase", "sales", "inactivity"),
    Scenario("sales.went_silent", "sales", "Went silent", "sales", "inactivity"),
    Scenario("onboarding.purchased_not_started", "onboarding", "Purchased, not started", "onboarding", "inactivity"),
    Scenario("onboarding.started_then_stopped", "onboarding", "Started, then stopped", "onboarding", "inactivity"),
    Scenario("onboarding.low_engagement", "onboarding", "Low engagement", "onboarding", "low_engagement"),
    Scenario("onboarding.missed_milestone", "onboarding", "Missed milestone", "onboarding", "inactivity"),
    Scenario("upsell.not_upgrading", "upsell", "Not upgrading", "customer", "inactivity"),
    Scenario("upsell.ignored_new_offer", "upsell", "Ignored a new offer", "customer", "inactivity"),
    Scenario("upsell.interested_did_not_act", "upsell", "Interested, did not act", "customer", "inactivity"),
    Scenario("retention.renewal_at_risk", "retention", "Renewal at risk", "customer", "low_engagement"),
    Scenario("flow_failure.repeated_attempts", "flow_failure", "Repeated unsuccessful attempts", "flow",
             "repeated_attempts"),
    Scenario("flow_failure.known_error", "flow_failure", "Known error (auth/MFA, maintenance, latency)", "flow",
             "failure_end_state"),
    Scenario("flow_failure.unknown_exit", "flow_failure", "Unknown exit mid-flow", "flow", "abandoned_session"),
    Scenario("closed_lost.any", "closed_lost", "Deal closed-lost (filed by its loss reason)", "closed_lost",
             "closed_lost"),
    Scenario("closed_lost.price", "closed_lost", "Lost on price or budget", "closed_lost", "closed_lost"),
    Scenario("closed_lost.feature_gap", "closed_lost", "Lost on a feature gap", "closed_lost", "closed_lost"),
    Scenario("closed_lost.timing", "closed_lost", "Lost on timing", "closed_lost", "closed_lost"),
    Scenario("closed_lost.competition", "closed_lost", "Lost to a competitor", "closed_lost", "closed_lost"),
    Scenario("closed_lost.internal_champion", "closed_lost", "Lost its internal champion", "closed_lost",
             "closed_lost"),
    Scenario("closed_lost.technical_fit", "closed_lost", "Lost on technical fit", "closed_lost", "closed_lost"),
    Scenario("closed_lost.trust", "closed_lost", "Lost on trust or relationship", "closed_lost", "closed_lost"),
)
BY_KEY = {scenario.key: scenario for scenario in SCENARIOS}


def _rule(scenario: str, **params: Any) -> dict:
    return {"key": scenario.split(".", 1)[1], "scenario": scenario, "params": params}


def _inactivity(scenario: str, start: list[str], goal: list[str], wait: str, intent: str, **extra: Any) -> dict:
    return _rule(scenario, start_events=start, goal_events=goal, wait=wait, intent=intent, **extra)


# Atomic Transact's interaction names (seed 001): where a payroll-connection flow ends.
TRANSACT_SUCCESS = ["Viewed Task Completed Page", "onFinish"]
TRANSACT_ERRORS = {
    "Viewed Authentication Failed Page": "auth",
    "Viewed Access Unauthorized Page": "auth",
    "Viewed Expired Token Page": "auth",
    "Viewed Login Recovery Page": "auth",
    "Viewed MFA Page": "mfa",
    "Viewed Under Maintenance Page": "maintenance",
    "Viewed High Latency Page": "latency",
    "Viewed Task Failed Page": "task_failed",
    "Viewed Fractional Deposit Error Page": "task_failed",
    "Viewed Zero Search Results From Search By Company Page": "unknown",
}
TRANSACT_STEPS = ["Viewed Login Page", "Viewed Authentication Success Page", "Viewed Distribution Confirmation Page"]
USAGE_EVENTS = ["session_started", "feature_used"]


# Conventional event names; an account changes them with PATCH /v1/rules/{key}.
DEFAULT_RULES: tuple[dict[str, Any], ...] = (
    _inactivity("lead_magnet.downloaded_not_consumed", ["lead_magnet_downloaded"], ["lead_magnet_consumed"],
                "P3D", "low"),
    _inactivity("lead_magnet.consumed_no_next_step", ["lead_magnet_consumed"], ["next_step_taken", "call_booked"],
                "P7D", "low"),
    _inactivity("lead_magnet.engaged_no_call", ["content_engaged"], ["call_booked"], "P14D", "medium"),
    _inactivity("sales.application_abandoned", ["application_started"], ["application_completed"], "PT24H",
                "high", match_key="application_id"),
    _inactivity("sales.call_no_show", ["call_booked"], ["call_attended"], "PT1H", "high",
                wait_from="starts_at", match_key="call_id"),
    _inactivity("sales.consulted_no_purchase", ["consultation_completed"], ["purchase_completed"], "P7D", "high"),
    _inactivity("sales.went_silent", ["proposal_sent"], ["proposal_viewed", "reply_received", "purchase_completed"],
                "P10D", "medium"),
    _inactivity("onboarding.purchased_not_started", ["purchase_completed"], ["onboarding_started"], "P3D", "high"),
    _inactivity("onboarding.started_then_stopped", ["onboarding_started"], ["onboarding_completed"], "P7D",
                "medium"),
    _inactivity("onboarding.missed_milestone", ["onboarding_started"], ["milestone_reached"], "P14D", "medium"),
    _inactivity("upsell.not_upgrading", ["trial_limit_reached"], ["plan_upgraded"], "P7D", "medium"),
    _inactivity("upsell.ignored_new_offer", ["offer_sent"], ["offer_opened", "offer_accepted"], "P7D", "low"),
    _inactivity("upsell.interested_did_not_act", ["upgrade_viewed"], ["plan_upgraded"], "P3D", "medium"),
    _rule("onboarding.low_engagement", start_events=["onboarding_started"], qualifying_events=USAGE_EVENTS,
          min_events=3, window="P14D", intent="medium"),
    _rule("retention.renewal_at_risk", start_events=["renewal_window_opened"], qualifying_events=USAGE_EVENTS,
          min_events=5, window="P30D", intent="medium"),
    _rule("flow_failure.known_error", error_events=TRANSACT_ERRORS, success_events=TRANSACT_SUCCESS,
          settle="PT30M", service_key="company"),
    _rule("flow_failure.repeated_attempts", attempt_events=["Viewed Task Failed Page", "Viewed High Latency Page",
          "Viewed Authentication Failed Page", "Viewed Under Maintenance Page"], success_events=TRANSACT_SUCCESS,
          min_attempts=2, window="P7D", settle="PT30M", intent="high"),
    {"key": "deal_closed_lost", "scenario": "closed_lost.any", "params": {"match_key": "deal_id"}},
    _rule("flow_failure.unknown_exit", close_events=["onClose"], steps=TRANSACT_STEPS,
          success_events=TRANSACT_SUCCESS, unless_events=list(TRANSACT_ERRORS), session="PT2H", settle="PT30M",
          require_step=True),
)


def install(db_session: Session, account_id: int) -> int:
    """Give an account every default rule it does not have yet; answer how many were added."""
    existing = set(db_session.scalars(select(Rule.key).where(Rule.account_id == account_id)))
    added = 0
    for default in DEFAULT_RULES:
        if default["key"] in existing:
            continue
        scenario = BY_KEY[default["scenario"]]
        params = DETECTORS[scenario.kind].params().load(default["params"])
        db_session.add(Rule(account_id=account_id, key=default["key"], name=scenario.name, scenario=scenario.key,
                            stage=scenario.stage, kind=scenario.kind, params=params))
        added += 1
    return added
