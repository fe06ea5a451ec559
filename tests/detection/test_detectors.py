"""The rule kinds beyond inactivity, on the Atomic Transact examples of the seeds, with time travel."""

from datetime import timedelta

import pytest

from tests.support.detection import dropoffs, send, tick

MINUTE = timedelta(minutes=1)


def by_scenario(client, tenant, scenario):
    return [d for d in dropoffs(client, tenant, f"?scenario={scenario}")]


@pytest.mark.parametrize(
    ("error", "category"),
    [
        ("Viewed Authentication Failed Page", "auth"),
        ("Viewed MFA Page", "mfa"),
        ("Viewed Under Maintenance Page", "maintenance"),
        ("Viewed High Latency Page", "latency"),
    ],
)
def test_known_error_is_raised_after_its_settle_time_with_its_category(app, client, acme, error, category):
    send(client, acme, "e1", error)
    tick(app, 30 * MINUTE - timedelta(seconds=1))
    assert by_scenario(client, acme, "flow_failure.known_error") == []
    tick(app, 30 * MINUTE)
    [dropoff] = by_scenario(client, acme, "flow_failure.known_error")
    assert dropoff["category"] == category and dropoff["intent"] == "high" and dropoff["kind"] == "failure_end_state"
    assert dropoff["segment"]["error"] == error


def test_success_after_an_error_is_no_dropoff(app, client, acme):
    send(client, acme, "e1", "Viewed MFA Page")
    send(client, acme, "ok", "Viewed Task Completed Page", 5 * MINUTE)
    tick(app, timedelta(hours=2))
    assert dropoffs(client, acme) == []


def test_the_last_error_is_the_end_state(app, client, acme):
    send(client, acme, "e1", "Viewed MFA Page")
    send(client, acme, "e2", "Viewed Task Failed Page", 10 * MINUTE)
    tick(app, 39 * MINUTE)
    assert by_scenario(client, acme, "flow_failure.known_error") == []
    tick(app, 40 * MINUTE)
    [dropoff] = by_scenario(client, acme, "flow_failure.known_error")
    assert dropoff["category"] == "task_failed" and dropoff["intent"] == "medium"


def test_repeated_unsuccessful_attempts_raise_one_dropoff(app, client, acme):
    send(client, acme, "a1", "Viewed Task Failed Page")
    tick(app, timedelta(hours=1))
    assert by_scenario(client, acme, "flow_failure.repeated_attempts") == []
    send(client, acme, "a2", "Viewed High Latency Page", timedelta(days=2))
    tick(app, timedelta(days=2) + 30 * MINUTE)
    [dropoff] = by_scenario(client, acme, "flow_failure.repeated_attempts")
    assert dropoff["category"] == "repeated_attempts" and dropoff["intent"] == "high"
    assert dropoff["segment"]["attempts"] == 2


def test_a_success_between_attempts_starts_the_count_again(app, client, acme):
    send(client, acme, "a1", "Viewed Task Failed Page")
    send(client, acme, "ok", "Viewed Task Completed Page", timedelta(hours=1))
    send(client, acme, "a2", "Viewed Task Failed Page", timedelta(hours=2))
    tick(app, timedelta(days=1))
    assert by_scenario(client, acme, "flow_failure.repeated_attempts") == []


def test_attempts_outside_the_window_do_not_count(app, client, acme):
    send(client, acme, "a1", "Viewed Task Failed Page")
    send(client, acme, "a2", "Viewed Task Failed Page", timedelta(days=8))
    tick(app, timedelta(days=9))
    assert by_scenario(client, acme, "flow_failure.repeated_attempts") == []


def test_deep_close_is_a_high_intent_unknown_exit(app, client, acme):
    send(client, acme, "s1", "Viewed Login Page")
    send(client, acme, "s2", "Viewed Authentication Success Page", 2 * MINUTE)
    send(client, acme, "s3", "Viewed Distribution Confirmation Page", 4 * MINUTE)
    send(client, acme, "c1", "onClose", 5 * MINUTE)
    tick(app, 35 * MINUTE - timedelta(seconds=1))
    assert by_scenario(client, acme, "flow_failure.unknown_exit") == []
    tick(app, 35 * MINUTE)
    [dropoff] = by_scenario(client, acme, "flow_failure.unknown_exit")
    assert dropoff["category"] == "unknown_exit" and dropoff["intent"] == "high"
    assert dropoff["segment"]["step"] == "Viewed Distribution Confirmation Page" and dropoff["segment"]["depth"] == 3


def test_shallow_close_is_low_intent_and_a_close_before_any_step_is_nothing(app, client, acme, globex):
    send(client, acme, "s1", "Viewed Login Page")
    send(client, acme, "c1", "onClose", MINUTE)
    send(client, globex, "c1", "onClose", MINUTE)
    tick(app, timedelta(hours=1))
    [dropoff] = by_scenario(client, acme, "flow_failure.unknown_exit")
    assert dropoff["intent"] == "low"
    assert dropoffs(client, globex) == []


def test_a_close_after_a_known_error_is_left_to_the_known_error_rule(app, client, acme):
    send(client, acme, "s1", "Viewed Login Page")
    send(client, acme, "e1", "Viewed Authentication Failed Page", MINUTE)
    send(client, acme, "c1", "onClose", 2 * MINUTE)
    tick(app, timedelta(hours=1))
    assert [d["scenario"] for d in dropoffs(client, acme)] == ["flow_failure.known_error"]


def test_low_engagement_counts_what_happened_in_the_window(app, client, acme):
    send(client, acme, "o1", "onboarding_started")
    send(client, acme, "u1", "session_started", timedelta(days=1))
    send(client, acme, "u2", "feature_used", timedelta(days=3))
    tick(app, timedelta(days=14) - timedelta(seconds=1))
    assert by_scenario(client, acme, "onboarding.low_engagement") == []
    tick(app, timedelta(days=14))
    [dropoff] = by_scenario(client, acme, "onboarding.low_engagement")
    assert dropoff["segment"]["qualifying_events"] == 2 and dropoff["segment"]["needed"] == 3


def test_enough_engagement_is_no_dropoff(app, client, acme):
    send(client, acme, "o1", "onboarding_started")
    for n in range(3):
        send(client, acme, f"u{n}", "session_started", timedelta(days=n + 1))
    tick(app, timedelta(days=15))
    assert by_scenario(client, acme, "onboarding.low_engagement") == []


def test_replayed_error_events_change_nothing(app, client, acme):
    send(client, acme, "e1", "Viewed Task Failed Page")
    send(client, acme, "e1", "Viewed Task Failed Page", timedelta(hours=1))
    tick(app, timedelta(days=1))
    assert by_scenario(client, acme, "flow_failure.repeated_attempts") == []
    assert len(by_scenario(client, acme, "flow_failure.known_error")) == 1


@pytest.mark.parametrize(
    ("reason", "scenario"),
    [
        ("Budget was cut", "closed_lost.price"),
        ("Went with a competitor", "closed_lost.competition"),
        ("Not now - maybe next quarter", "closed_lost.timing"),
        ("Our champion left the company", "closed_lost.internal_champion"),
        ("", "closed_lost.any"),
    ],
)
def test_lost_deal_is_filed_under_its_loss_reason(app, client, acme, reason, scenario):
    send(client, acme, "d1", "deal.closed_lost", value=48000, currency="USD",
         properties={"deal_id": "D-7", "closed_lost_reason": reason})
    tick(app, timedelta(seconds=1))
    [dropoff] = dropoffs(client, acme)
    assert dropoff["scenario"] == scenario and dropoff["kind"] == "closed_lost"
    assert dropoff["value_at_risk"] == 48000.0 and dropoff["match_value"] == "D-7"
    assert dropoff["segment"]["loss_reason"] == (reason or None)


@pytest.mark.parametrize("key", ["loss_reason", "closed_lost_reason", "reason"])
def test_every_documented_loss_reason_property_files_the_dropoff_as_its_deal(app, client, acme, key):
    send(client, acme, "d1", "deal.closed_lost", contact={"email": "sam@example.com"},
         properties={"deal_id": "D-9", key: "They picked Looker", "notes": "cheaper too"})
    tick(app, timedelta(seconds=1))
    [dropoff] = dropoffs(client, acme)
    [deal] = client.get("/v1/deals", headers=acme.headers).json
    assert dropoff["scenario"] == "closed_lost.competition" == f"closed_lost.{deal['category']}"
    assert dropoff["segment"]["loss_reason"] == "They picked Looker"


def test_loss_reason_comes_before_closed_lost_reason(app, client, acme):
    send(client, acme, "d1", "deal.closed_lost", properties={
        "deal_id": "D-9", "loss_reason": "Couldn't justify the spend", "closed_lost_reason": "Other"})
    tick(app, timedelta(seconds=1))
    [dropoff] = dropoffs(client, acme)
    assert dropoff["scenario"] == "closed_lost.price" and dropoff["segment"]["loss_reason"].startswith("Couldn't")


def test_a_deal_won_after_it_was_lost_recovers_it(app, client, acme):
    send(client, acme, "d1", "deal.closed_lost", properties={"deal_id": "D-7", "closed_lost_reason": "timing"})
    tick(app, timedelta(minutes=1))
    send(client, acme, "d2", "deal.closed_won", timedelta(days=90), value=52000, properties={"deal_id": "D-7"})
    [dropoff] = dropoffs(client, acme)
    assert dropoff["status"] == "recovered" and dropoff["revenue"] == 52000.0


def test_segment_counts_purchases_and_value_comes_from_properties(app, client, acme):
    send(client, acme, "p1", "purchase_completed", timedelta(days=-40))
    send(client, acme, "s1", "application_started", properties={"amount": 120})
    tick(app, timedelta(days=1))
    [dropoff] = dropoffs(client, acme, "?scenario=sales.application_abandoned")
    assert dropoff["segment"]["purchases"] == 1 and dropoff["value_at_risk"] == 120.0


def test_repeated_attempts_dropoff_comes_at_the_end_of_the_settle_time_not_before(app, client, acme):
    send(client, acme, "a1", "Viewed Task Failed Page")
    send(client, acme, "a2", "Viewed Task Failed Page", timedelta(hours=1))
    tick(app, timedelta(hours=1) + 30 * MINUTE - timedelta(seconds=1))
    assert by_scenario(client, acme, "flow_failure.repeated_attempts") == []
    tick(app, timedelta(hours=1) + 30 * MINUTE)
    assert len(by_scenario(client, acme, "flow_failure.repeated_attempts")) == 1


def test_lost_deal_is_raised_at_the_moment_it_was_lost_not_before(app, client, acme):
    send(client, acme, "d1", "deal.closed_lost", timedelta(hours=2), properties={"closed_lost_reason": "price"})
    tick(app, timedelta(hours=2) - timedelta(seconds=1))
    assert dropoffs(client, acme) == []
    tick(app, timedelta(hours=2))
    assert dropoffs(client, acme)[0]["scenario"] == "closed_lost.price"
