"""Searches and dropdown sources through HTTP: no match is 200 [], bad input names the field."""

from datetime import timedelta

from tests.support.journeys import DANA, T, abandon, setup_sales


def get(client, tenant, path, status=200):
    response = client.get(path, headers=tenant.headers)
    assert response.status_code == status, response.json
    return response.json


def test_find_contact_and_find_dropoff(app, client, acme):
    setup_sales(client, acme)
    abandon(app, client, acme, DANA)
    [contact] = get(client, acme, "/v1/searches/find-contact?email=dana@example.com")
    assert contact["external_id"] == "dana"
    assert get(client, acme, "/v1/searches/find-contact?email=nobody@example.com") == []
    [dropoff] = get(client, acme, "/v1/searches/find-dropoff?external_id=dana&status=enrolled")
    assert dropoff["contact"]["id"] == contact["id"] and dropoff["scenario"] == "sales.application_abandoned"
    assert get(client, acme, "/v1/searches/find-dropoff?external_id=dana&status=recovered") == []
    assert get(client, acme, "/v1/searches/find-dropoff?email=nobody@example.com") == []


def test_searches_refuse_what_they_cannot_answer(client, acme):
    missing = get(client, acme, "/v1/searches/find-contact", 422)
    assert "Give one of" in missing["error"]["message"]
    assert get(client, acme, "/v1/searches/find-dropoff?status=lost&email=a@example.com",
               422)["error"]["details"]["fields"][0]["field"] == "status"


def test_another_accounts_records_are_not_found(app, client, acme, globex):
    setup_sales(client, acme)
    abandon(app, client, acme, DANA)
    assert get(client, globex, "/v1/searches/find-contact?external_id=dana") == []
    assert get(client, globex, "/v1/searches/find-dropoff?external_id=dana") == []
    assert get(client, globex, "/v1/options/flows") == [] and get(client, globex, "/v1/options/rules") != []


def test_dropdowns_list_ids_and_names(client, acme):
    setup_sales(client, acme)
    assert {"id": "sales", "name": get(client, acme, "/v1/flows")[0]["name"]} in get(client, acme, "/v1/options/flows")
    phases = get(client, acme, "/v1/options/phases")
    assert [p["id"] for p in phases] == [1, 2, 3, 4, 5] and phases[0]["name"].startswith("1. Immediate response")
    scenarios = {s["id"] for s in get(client, acme, "/v1/options/scenarios")}
    assert "sales.application_abandoned" in scenarios
    assert "application_abandoned" in {r["id"] for r in get(client, acme, "/v1/options/rules")}


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(app, client, acme, globex, rate_clock):
    app.config["RATE_LIMIT"] = "3 per minute"
    for _ in range(3):
        get(client, acme, "/v1/me")
    response = client.get("/v1/me", headers=acme.headers)
    assert response.status_code == 429 and response.json["error"]["code"] == "rate_limited"
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert client.get("/v1/me", headers=globex.headers).status_code == 200  # another key has its own budget
    assert client.get("/healthz").status_code == 200


__all__ = ["T", "timedelta"]
