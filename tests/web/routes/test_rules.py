"""Rules and scenarios, through HTTP."""

import pytest

from reengage.detection import catalogue

NEW_RULE = {
    "key": "trial_abandoned",
    "scenario": "onboarding.started_then_stopped",
    "kind": "inactivity",
    "params": {"start_events": ["trial_started"], "goal_events": ["trial_activated"], "wait": "48h"},
}


def test_new_account_starts_with_the_default_rules(client, acme):
    rules = client.get("/v1/rules", headers=acme.headers).json
    assert {rule["key"] for rule in rules} == {default["key"] for default in catalogue.DEFAULT_RULES}
    abandoned = client.get("/v1/rules/application_abandoned", headers=acme.headers).json
    assert abandoned["id"] == "application_abandoned" and abandoned["params"]["match_key"] == "application_id"


def test_create_rule_takes_stage_and_name_from_the_catalogue(client, acme):
    response = client.post("/v1/rules", json=NEW_RULE, headers=acme.headers)
    assert response.status_code == 201
    assert response.json["stage"] == "onboarding" and response.json["name"] == "Started, then stopped"
    assert response.json["params"]["intent"] == "medium"


def test_custom_scenario_needs_a_stage_and_is_listed(client, acme):
    body = {**NEW_RULE, "scenario": "webinar.registered_no_show"}
    response = client.post("/v1/rules", json=body, headers=acme.headers)
    assert response.status_code == 422 and response.json["error"]["details"]["fields"][0]["field"] == "stage"
    assert client.post("/v1/rules", json={**body, "stage": "lead"}, headers=acme.headers).status_code == 201
    scenarios = {s["id"]: s for s in client.get("/v1/scenarios", headers=acme.headers).json}
    assert scenarios["webinar.registered_no_show"] == {
        "id": "webinar.registered_no_show", "name": "webinar.registered_no_show", "family": "webinar",
        "stage": "lead", "kind": "inactivity", "builtin": False, "rules": ["trial_abandoned"],
    }
    assert scenarios["sales.application_abandoned"]["rules"] == ["application_abandoned"]
    assert len([s for s in scenarios.values() if s["builtin"]]) == len(catalogue.SCENARIOS)


def test_duplicate_key_is_a_conflict(client, acme):
    client.post("/v1/rules", json=NEW_RULE, headers=acme.headers)
    response = client.post("/v1/rules", json=NEW_RULE, headers=acme.headers)
    assert response.status_code == 409 and response.json["error"]["details"]["fields"][0]["field"] == "key"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"key": "Bad Key"}, "key"),
        ({"kind": "telepathy"}, "kind"),
        ({"params": {**NEW_RULE["params"], "wait": "soon"}}, "params.wait"),
        ({"params": {**NEW_RULE["params"], "wait": "P1M"}}, "params.wait"),
        ({"params": {**NEW_RULE["params"], "wait": "0h"}}, "params.wait"),
        ({"params": {**NEW_RULE["params"], "goal_events": []}}, "params.goal_events"),
        ({"params": {**NEW_RULE["params"], "intent": "extreme"}}, "params.intent"),
        ({"params": {**NEW_RULE["params"], "colour": "red"}}, "params.colour"),
    ],
)
def test_invalid_rules_are_named(client, acme, change, field):
    response = client.post("/v1/rules", json={**NEW_RULE, **change}, headers=acme.headers)
    assert response.status_code == 422
    assert field in {p["field"] for p in response.json["error"]["details"]["fields"]}


def test_unknown_kind_is_refused_naming_the_available_ones(client, acme):
    response = client.post("/v1/rules", json={**NEW_RULE, "kind": "sentiment"}, headers=acme.headers)
    assert response.status_code == 422
    message = response.json["error"]["message"]
    assert "inactivity" in message and "abandoned_session" in message


def test_params_are_checked_by_the_kind_named(client, acme):
    body = {**NEW_RULE, "kind": "repeated_attempts", "params": {"attempt_events": ["x"]}}
    response = client.post("/v1/rules", json=body, headers=acme.headers)
    assert response.status_code == 422
    assert {p["field"] for p in response.json["error"]["details"]["fields"]} == {"params.success_events"}
    body["params"]["success_events"] = ["y"]
    created = client.post("/v1/rules", json=body, headers=acme.headers).json
    assert created["params"] == {"attempt_events": ["x"], "success_events": ["y"], "min_attempts": 3,
                                 "window": "P7D", "settle": "PT30M", "intent": "high"}


def test_patch_merges_params_and_checks_them_whole(client, acme):
    response = client.patch("/v1/rules/application_abandoned", json={"params": {"start_events": ["app_begun"]}},
                            headers=acme.headers)
    assert response.status_code == 200
    assert response.json["params"]["start_events"] == ["app_begun"]
    assert response.json["params"]["goal_events"] == ["application_completed"]
    bad = client.patch("/v1/rules/application_abandoned", json={"params": {"wait": "later"}}, headers=acme.headers)
    assert bad.status_code == 422 and bad.json["error"]["details"]["fields"][0]["field"] == "params.wait"
    assert client.get("/v1/rules/application_abandoned", headers=acme.headers).json["params"]["wait"] == "PT24H"


def test_patch_and_delete_unknown_rule_is_404(client, acme):
    assert client.patch("/v1/rules/nope", json={"enabled": False}, headers=acme.headers).status_code == 404
    assert client.delete("/v1/rules/nope", headers=acme.headers).status_code == 404


def test_deleted_rule_keeps_its_dropoffs_by_key(app, client, acme):
    from datetime import timedelta

    from tests.support.detection import T, send, tick

    send(client, acme, "s1", "application_started")
    tick(app, timedelta(hours=24))
    assert client.delete("/v1/rules/application_abandoned", headers=acme.headers).status_code == 204
    assert client.get("/v1/rules/application_abandoned", headers=acme.headers).status_code == 404
    [dropoff] = client.get("/v1/dropoffs", headers=acme.headers).json
    assert dropoff["rule"] == "application_abandoned" and T.isoformat()[:10] in dropoff["started_at"]
