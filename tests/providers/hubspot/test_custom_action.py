"""Our custom workflow action on HubSpot's current automation actions API: how long a waiting record is held."""

import json
from datetime import datetime, timedelta

from reengage.platform import db, durations
from tests.providers.hubspot.test_hubspot import action, post_signed, urls  # noqa: F401  (the `urls` fixture)
from tests.support.journeys import setup_sales


def blocked(client, path: str, **inputs) -> dict:
    answer = post_signed(client, path, action(**inputs), version="v2")
    assert answer.status_code == 200, answer.json
    fields = answer.json["outputFields"]
    assert fields["hs_execution_state"] == "BLOCK", fields
    return fields


def test_a_waiting_record_is_held_for_what_is_left_of_the_flow(app, client, acme, urls):  # noqa: F811
    setup_sales(client, acme)
    before = datetime.now().astimezone()
    fields = blocked(client, urls["action_url"])
    steps = client.get(f"/v1/messages?enrollment_id={fields['enrollment_id']}&limit=100", headers=acme.headers).json
    last = max(datetime.fromisoformat(step["due_at"]) for step in steps)
    held = durations.parse(fields["hs_expiration_duration"])
    # The flow's remaining length and a day's margin, to the second: far past HubSpot's one-week default.
    expected = last - before + timedelta(days=1)
    assert abs(held - expected) <= timedelta(seconds=5) and held > timedelta(days=60), (held, expected)


def test_the_hold_is_capped_at_hubspot_block_max(app, client, acme, urls):  # noqa: F811
    app.config["HUBSPOT_BLOCK_MAX"] = "P30D"
    setup_sales(client, acme)
    assert blocked(client, urls["action_url"])["hs_expiration_duration"] == "P30D"


def test_a_retried_call_is_held_for_what_is_left_then(app, client, acme, urls):  # noqa: F811
    setup_sales(client, acme)
    first = durations.parse(blocked(client, urls["action_url"])["hs_expiration_duration"])
    with app.app_context(), db.as_of(db.utcnow() + timedelta(days=10)):
        again = durations.parse(blocked(client, urls["action_url"])["hs_expiration_duration"])
    assert timedelta(days=10) - timedelta(seconds=5) <= first - again <= timedelta(days=10) + timedelta(seconds=5)


def test_the_definition_registers_on_the_current_actions_api(app, client, acme, urls):  # noqa: F811
    result = app.test_cli_runner().invoke(args=["hubspot", "action-definition", str(acme.id)])
    assert result.exit_code == 0, result.output
    definition = json.loads(result.output[:result.output.rindex("}") + 1])
    assert definition["actionUrl"].endswith(urls["action_url"]) and definition["objectTypes"] == ["CONTACT"]
    assert "https://api.hubapi.com/automation/actions/2026-03/<your app id>" in result.output
