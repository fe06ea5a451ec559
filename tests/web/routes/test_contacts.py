"""Contacts: matching precedence, validation, lookups and searches."""

import pytest


def upsert(client, tenant, **body):
    return client.post("/v1/contacts", json=body, headers=tenant.headers)


def test_external_id_wins_over_email(client, acme):
    first = upsert(client, acme, external_id="u-1", email="dana@example.com").json
    moved = upsert(client, acme, external_id="u-1", email="dana@new.example").json
    assert moved["id"] == first["id"] and moved["email"] == "dana@new.example"


def test_email_matches_case_insensitively_and_adopts_the_external_id(client, acme):
    first = upsert(client, acme, email="Dana@Example.com").json
    assert first["email"] == "dana@example.com"
    again = upsert(client, acme, email="DANA@example.COM", external_id="u-9").json
    assert again["id"] == first["id"] and again["external_id"] == "u-9"


def test_phone_matches_when_nothing_stronger_does(client, acme):
    first = upsert(client, acme, phone="+1 (415) 555-2671").json
    assert first["phone"] == "+14155552671"
    again = upsert(client, acme, phone="+14155552671", email="dana@example.com").json
    assert again["id"] == first["id"] and again["email"] == "dana@example.com"


def test_hubspot_id_matches_last(client, acme):
    first = upsert(client, acme, hubspot_id="5101").json
    assert upsert(client, acme, hubspot_id="5101", first_name="Dana").json["id"] == first["id"]


def test_weaker_identifier_of_someone_else_is_a_conflict(client, acme):
    upsert(client, acme, external_id="u-1", email="dana@example.com")
    response = upsert(client, acme, external_id="u-2", email="dana@example.com")
    assert response.status_code == 409
    assert response.json["error"]["details"]["fields"][0]["field"] == "email"


def test_taking_another_contacts_email_is_a_conflict(client, acme):
    upsert(client, acme, external_id="u-1", email="one@example.com")
    upsert(client, acme, external_id="u-2", email="two@example.com")
    response = upsert(client, acme, external_id="u-2", email="one@example.com")
    assert response.status_code == 409 and response.json["error"]["code"] == "contact_conflict"


def test_fields_update_and_json_fields_merge(client, acme):
    upsert(client, acme, email="d@example.com", first_name="Dana", properties={"plan": "free", "seats": 1},
           consent={"email": True})
    contact = upsert(client, acme, email="d@example.com", last_name="Reyes", properties={"plan": "pro", "seats": None},
                     consent={"sms": False}).json
    assert contact["name"] == "Dana Reyes"
    assert contact["properties"] == {"plan": "pro"}
    assert contact["consent"] == {"email": True, "sms": False}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "d@example.com", "timezone": "Mars/Olympus"}, "timezone"),
        ({"email": "d@example.com", "timezone": "EST5EDTX"}, "timezone"),
        ({"phone": "555-1234"}, "phone"),
        ({"email": "d@example.com", "country": "USA"}, "country"),
        ({"email": "d@example.com", "consent": {"email": "maybe"}}, "consent.email.value"),
        ({"first_name": "Dana"}, "body"),
        ({"email": "d@example.com", "nickname": "D"}, "nickname"),
    ],
)
def test_invalid_contact_fields_are_named(client, acme, body, field):
    response = client.post("/v1/contacts", json=body, headers=acme.headers)
    assert response.status_code == 422
    assert field in {p["field"] for p in response.json["error"]["details"]["fields"]}


def test_valid_timezone_is_kept(client, acme):
    assert upsert(client, acme, email="d@example.com", timezone="Asia/Kolkata").json["timezone"] == "Asia/Kolkata"


def test_search_by_email_returns_a_list_and_empty_when_none(client, acme):
    created = upsert(client, acme, email="dana@example.com").json
    found = client.get("/v1/contacts?email=DANA@example.com", headers=acme.headers)
    assert found.status_code == 200 and [c["id"] for c in found.json] == [created["id"]]
    none = client.get("/v1/contacts?email=nobody@example.com", headers=acme.headers)
    assert none.status_code == 200 and none.json == []


def test_search_by_each_identifier(client, acme):
    created = upsert(client, acme, external_id="u-1", phone="+442071838750", hubspot_id="77").json
    for query in ("external_id=u-1", "phone=%2B44%2020%207183%208750", "hubspot_id=77"):
        assert [c["id"] for c in client.get(f"/v1/contacts?{query}", headers=acme.headers).json] == [created["id"]]


def test_get_contact_by_id_and_missing_is_404(client, acme):
    created = upsert(client, acme, email="dana@example.com").json
    assert client.get(f"/v1/contacts/{created['id']}", headers=acme.headers).json == created
    missing = client.get("/v1/contacts/999999", headers=acme.headers)
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"


def test_contact_last_event_at_follows_its_newest_event(client, acme):
    events = [
        {"id": "b", "type": "x", "occurred_at": "2026-01-02T00:00:00Z", "contact": {"email": "d@example.com"}},
        {"id": "a", "type": "x", "occurred_at": "2026-01-01T00:00:00Z", "contact": {"email": "d@example.com"}},
    ]
    client.post("/v1/events", json={"events": events}, headers=acme.headers)
    contact = client.get("/v1/contacts?email=d@example.com", headers=acme.headers).json[0]
    assert contact["last_event_at"].startswith("2026-01-02T00:00:00")
