"""Record conversion: recovers the contact's dropoffs and ends their watches."""

from datetime import timedelta

from tests.support.detection import DANA, at, dropoffs, send, tick


def convert(client, tenant, **body):
    return client.post("/v1/actions/record-conversion", json=body, headers=tenant.headers)


def test_conversion_recovers_dropoffs_with_revenue(app, client, acme):
    send(client, acme, "s1", "application_started")
    tick(app, timedelta(hours=24))
    response = convert(client, acme, email="DANA@example.com", value=300, currency="USD",
                       occurred_at=at(timedelta(hours=30)))
    assert response.status_code == 200
    [dropoff] = dropoffs(client, acme)
    assert response.json["recovered"] == [dropoff["id"]]
    assert dropoff["status"] == "recovered" and dropoff["revenue"] == 300.0
    assert dropoff["recovery_seconds"] == 6 * 3600


def test_conversion_ends_open_watches_so_no_dropoff_follows(app, client, acme):
    send(client, acme, "s1", "application_started")
    response = convert(client, acme, external_id=DANA["external_id"], occurred_at=at(timedelta(hours=1)))
    assert response.json == {"contact_id": response.json["contact_id"], "recovered": [], "watches_closed": 1}
    tick(app, timedelta(days=3))
    assert dropoffs(client, acme) == []


def test_conversion_can_be_limited_to_a_rule(app, client, acme):
    send(client, acme, "s1", "application_started")
    send(client, acme, "s2", "trial_limit_reached")
    response = convert(client, acme, external_id="dana", rule="not_upgrading")
    assert response.json["watches_closed"] == 1
    tick(app, timedelta(days=8))
    assert [d["scenario"] for d in dropoffs(client, acme)] == ["sales.application_abandoned"]


def test_unknown_contact_or_dropoff_is_404_and_a_contact_is_required(client, acme, globex):
    send(client, acme, "s1", "application_started")
    assert convert(client, globex, email="dana@example.com").status_code == 404
    assert convert(client, acme, email="dana@example.com", dropoff_id=999).status_code == 404
    missing = convert(client, acme, value=10)
    assert missing.status_code == 422 and missing.json["error"]["details"]["fields"][0]["field"] == "body"


def test_the_conversion_action_is_listed_with_its_sample(client, acme):
    listed = {a["key"]: a for a in client.get("/v1/actions", headers=acme.headers).json}
    assert listed["record-conversion"]["sample"] == {"contact_id": 42, "recovered": [7], "watches_closed": 1}


def test_unknown_rule_is_404_but_a_deleted_rules_key_still_recovers(app, client, acme):
    send(client, acme, "s1", "application_started")
    assert convert(client, acme, external_id="dana", rule="no_such_rule").status_code == 404
    tick(app, timedelta(hours=24))
    client.delete("/v1/rules/application_abandoned", headers=acme.headers)
    response = convert(client, acme, external_id="dana", rule="application_abandoned", value=10)
    assert response.status_code == 200 and len(response.json["recovered"]) == 1
