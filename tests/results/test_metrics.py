"""GET /v1/metrics on a history built by hand: counts, rates, revenue, cost and the attribution window's edges."""

from datetime import datetime, timedelta

import pytest

from tests.support.journeys import abandon, setup_sales, tick


@pytest.fixture
def history(app, client, acme):
    """Four abandoned applications; the first step goes to each; three convert 2 days, 7 days and 7 days + 1 s
    after it (100, 50 and 30), the fourth never does."""
    setup_sales(client, acme)
    client.patch("/v1/settings", json={"metrics": {"attribution_window": "P7D", "costs": {"email": 0.01}}},
                 headers=acme.headers)
    enrollments = {name: abandon(app, client, acme, {"external_id": name, "email": f"{name}@example.com"}, key=name)
                   for name in ("ann", "ben", "cat", "dan")}
    first = {name: min(e["messages"], key=lambda m: m["due_at"]) for name, e in enrollments.items()}
    for message in first.values():
        tick(app, datetime.fromisoformat(message["due_at"]))
    sent = {name: datetime.fromisoformat(client.get(f"/v1/messages/{m['id']}", headers=acme.headers)
                                         .json["sent_at"]) for name, m in first.items()}
    for name, after, value in (("ann", timedelta(days=2), 100), ("ben", timedelta(days=7), 50),
                               ("cat", timedelta(days=7, seconds=1), 30)):
        response = client.post("/v1/actions/record-conversion", json={
            "external_id": name, "value": value, "occurred_at": (sent[name] + after).isoformat()},
            headers=acme.headers)
        assert response.status_code == 200, response.json
    dropoffs = {d["contact_id"]: d for d in client.get("/v1/dropoffs", headers=acme.headers).json}
    return {"sent": sent, "channel": first["ann"]["channel"], "dropoffs": dropoffs}


def rows(client, tenant, query=""):
    response = client.get(f"/v1/metrics{query}", headers=tenant.headers)
    assert response.status_code == 200, response.json
    return response.json


def test_the_totals_count_every_dropoff_and_recovery(client, acme, history):
    [total] = rows(client, acme)
    assert {k: total[k] for k in ("group", "dropoffs", "enrolled", "messages_sent", "recovered")} == {
        "group": None, "dropoffs": 4, "enrolled": 4, "messages_sent": 4, "recovered": 3}
    assert total["recovery_rate"] == 0.75 and total["revenue"] == 180.0
    assert total["cost"] == pytest.approx(0.04) and total["cost_per_recovery"] == round(0.04 / 3, 4)
    detected = datetime.fromisoformat(next(iter(history["dropoffs"].values()))["detected_at"])
    touches = sorted((sent - detected).total_seconds() for sent in history["sent"].values())
    assert total["median_time_to_first_touch_seconds"] == (touches[1] + touches[2]) / 2
    seconds = sorted(d["recovery_seconds"] for d in history["dropoffs"].values() if d["recovery_seconds"])
    assert total["median_time_to_recovery_seconds"] == seconds[1]


def test_a_channel_is_credited_only_recoveries_inside_the_attribution_window(client, acme, history):
    [channel] = rows(client, acme, "?group_by=channel")
    assert channel["group"] == history["channel"] and channel["dropoffs"] == 4
    # 2 days and exactly 7 days count; 7 days and a second does not.
    assert channel["recovered"] == 2 and channel["revenue"] == 150.0 and channel["recovery_rate"] == 0.5
    [phase] = rows(client, acme, "?group_by=phase")
    assert phase["group"] == 1 and phase["recovered"] == 2
    assert rows(client, acme, "?group_by=phase&phase=2") == []


def test_grouping_by_day_and_scenario_and_bad_queries(client, acme, history):
    [day] = rows(client, acme, "?group_by=day")
    assert day["dropoffs"] == 4 and day["group"] == next(iter(history["dropoffs"].values()))["detected_at"][:10]
    [scenario] = rows(client, acme, "?group_by=scenario")
    assert scenario["group"] == "sales.application_abandoned" and scenario["recovered"] == 3
    assert rows(client, acme, "?scenario=onboarding.stalled")[0]["dropoffs"] == 0
    bad = client.get("/v1/metrics?group_by=colour", headers=acme.headers)
    assert bad.status_code == 422 and bad.json["error"]["details"]["fields"][0]["field"] == "group_by"


def test_another_accounts_history_is_not_counted(client, globex, history):
    [total] = rows(client, globex)
    assert total["dropoffs"] == 0 and total["messages_sent"] == 0 and total["recovery_rate"] is None
    assert rows(client, globex, "?group_by=channel") == []


def test_a_held_out_recovery_counts_for_its_dropoff_and_credits_no_message(app, client, globex):
    setup_sales(client, globex, holdout_percent=50)
    enrolled = [abandon(app, client, globex, {"external_id": f"p{n}", "email": f"p{n}@example.com"}, key=f"p{n}")
                for n in range(8)]
    held = [e for e in enrolled if e["holdout"]]
    assert held and len(held) < len(enrolled)  # the stable hash splits these eight
    for enrollment in enrolled:
        message = min(enrollment["messages"], key=lambda m: m["due_at"])
        tick(app, datetime.fromisoformat(message["due_at"]))
    dropoff = client.get(f"/v1/dropoffs?contact_id={held[0]['contact_id']}", headers=globex.headers).json[0]
    converted = datetime.fromisoformat(dropoff["detected_at"]) + timedelta(days=1)
    client.post("/v1/actions/record-conversion", json={"contact_id": dropoff["contact_id"], "value": 40,
                                                       "occurred_at": converted.isoformat()}, headers=globex.headers)
    [total] = rows(client, globex)
    treated = len(enrolled) - len(held)
    assert (total["dropoffs"], total["enrolled"], total["messages_sent"]) == (8, treated, treated)
    assert total["recovered"] == 1 and total["revenue"] == 40.0
    [channel] = rows(client, globex, "?group_by=channel")
    assert channel["dropoffs"] == treated and channel["recovered"] == 0 and channel["revenue"] == 0.0
