"""Input no backend can store or compare is answered 4xx, naming the field, never 500."""

import pytest

from tests.support import event

TOO_BIG = 2**63
UNSTORABLE = "Must not contain NUL characters or unpaired surrogates"


def fields_of(response) -> list[str]:
    return [problem["field"] for problem in response.json["error"]["details"]["fields"]]


@pytest.mark.parametrize("path", ["/v1/contacts/{}", "/v1/flows/{}", "/v1/deals/{}", "/v1/dropoffs/{}",
                                  "/v1/enrollments/{}", "/v1/messages/{}", "/v1/hooks/{}"])
def test_an_id_past_int64_on_a_route_is_not_found(client, acme, path):
    response = client.get(path.format(TOO_BIG), headers=acme.headers)
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_an_id_of_thousands_of_digits_on_a_route_is_not_found(client, acme):
    assert client.get(f"/v1/contacts/{'9' * 5000}", headers=acme.headers).status_code == 404


@pytest.mark.parametrize("path", ["/v1/events", "/v1/enrollments", "/v1/messages", "/v1/dropoffs",
                                  "/v1/searches/find-dropoff"])
def test_an_id_filter_past_int64_names_the_filter(client, acme, path):
    response = client.get(path, query_string={"contact_id": TOO_BIG}, headers=acme.headers)
    assert response.status_code == 422 and fields_of(response) == ["contact_id"]


def test_an_id_past_int64_in_a_body_names_the_field(client, acme):
    response = client.post("/v1/actions/record-conversion", json={"external_id": "u-1", "dropoff_id": TOO_BIG},
                           headers=acme.headers)
    assert response.status_code == 422 and fields_of(response) == ["dropoff_id"]


def test_openapi_declares_ids_as_int64(client):
    spec = client.get("/openapi.json").json
    path_id = spec["paths"]["/v1/contacts/{contact_id}"]["parameters"][0]["schema"]
    assert path_id == {"type": "integer", "format": "int64", "minimum": 0, "maximum": TOO_BIG - 1}
    query = {p["name"]: p["schema"] for p in spec["paths"]["/v1/events"]["get"]["parameters"]}
    assert query["contact_id"]["format"] == "int64" and query["contact_id"]["maximum"] == TOO_BIG - 1


def test_a_nul_in_a_query_names_the_parameter(client, acme):
    response = client.get("/v1/events?type=a%00", headers=acme.headers)
    assert response.status_code == 422 and fields_of(response) == ["type"]


def test_a_nul_in_a_path_names_the_segment(client, acme):
    response = client.get("/v1/rules/a%00b", headers=acme.headers)
    assert response.status_code == 422 and fields_of(response) == ["key"]


def test_a_nul_in_a_header_used_as_data_names_the_header(client, acme):
    response = client.post("/v1/webhooks/atomic", json={"type": "x"},
                           headers={**acme.headers, "ce-type": "x", "ce-id": "a\x00"})
    assert response.status_code == 422 and fields_of(response) == ["Ce-Id"]


@pytest.mark.parametrize("text", ["a\u0000", "\ud800", "ok \udfff"])
def test_unstorable_text_in_a_json_body_names_the_field(client, acme, text):
    response = client.post("/v1/contacts", json={"external_id": "u-1", "first_name": text}, headers=acme.headers)
    assert response.status_code == 422 and fields_of(response) == ["first_name"]
    assert UNSTORABLE in response.json["error"]["message"]


@pytest.mark.parametrize("written", [b"\\u0000", b"\\uD800", b"\\udFfF", b"\xed\xa0\x80", b"ok \xed\xbf\xbf"])
def test_unstorable_text_however_written_in_the_body_names_the_field(client, acme, written):
    # Escaped in either case, or a surrogate encoded as UTF-8 bytes (which JSON parsing lets through).
    body = b'{"external_id": "u-1", "first_name": "' + written + b'"}'
    response = client.post("/v1/contacts", data=body, content_type="application/json", headers=acme.headers)
    assert response.status_code == 422 and fields_of(response) == ["first_name"]


def test_a_surrogate_pair_and_escapes_that_only_look_alike_are_stored(client, acme):
    body = rb'{"external_id": "u-1", "first_name": "\uD83D\uDE00 \\u0000"}'
    response = client.post("/v1/contacts", data=body, content_type="application/json", headers=acme.headers)
    assert response.status_code == 200, response.json
    assert response.json["first_name"] == "\U0001F600 \\u0000"


def test_unstorable_text_deep_in_free_form_json_names_its_path(client, acme):
    response = client.post("/v1/events", json=event(properties={"plan": {"tags": ["fine", "x\u0000"]}}),
                           headers=acme.headers)
    assert response.status_code == 422 and fields_of(response) == ["properties.plan.tags[1]"]


def test_unstorable_text_in_a_batch_names_the_event(client, acme):
    response = client.post("/v1/events", json=[event("e-1"), event("e-2", type="a\u0000")], headers=acme.headers)
    assert response.status_code == 422 and fields_of(response) == ["[1].type"]


def test_an_unstorable_key_is_refused(client, acme):
    response = client.post("/v1/events", json=event(properties={"a\u0000": 1}), headers=acme.headers)
    assert response.status_code == 422 and fields_of(response) == ["properties"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_a_non_finite_number_in_properties_is_refused(client, acme, number):
    body = '{"id": "e-1", "type": "signed_up", "contact": {"external_id": "u-1"}, "properties": {"score": %s}}'
    response = client.post("/v1/events", data=body % number, content_type="application/json", headers=acme.headers)
    assert response.status_code == 422 and fields_of(response) == ["properties.score"]
    assert client.get("/v1/events", headers=acme.headers).json == []


def test_a_non_finite_number_in_a_schema_body_is_refused(client, acme):
    response = client.patch("/v1/settings", data='{"executive_arr_threshold": NaN}', content_type="application/json",
                            headers=acme.headers)
    assert response.status_code == 422 and fields_of(response) == ["executive_arr_threshold"]


def test_deal_stages_are_stored_and_shown(client, acme):
    stages = [{"stage": "demo", "at": "2026-01-05T10:00:00Z"},
              {"stage": "closedlost", "at": "2026-02-01T09:30:00+01:00"}]
    response = client.post("/v1/deals", json={"external_id": "D-1", "name": "DataTech", "stages": stages},
                           headers=acme.headers)
    assert response.status_code in (200, 201), response.json
    shown = client.get(f"/v1/deals/{response.json['id']}", headers=acme.headers).json["stages"]
    assert shown == [{"stage": "demo", "at": "2026-01-05T10:00:00+00:00"},
                     {"stage": "closedlost", "at": "2026-02-01T09:30:00+01:00"}]


def test_a_flow_phase_without_steps_names_the_field(client, acme):
    response = client.post("/v1/flows", json={"key": "f", "name": "F", "phases": [{}, {"steps": []}, {}, {}, {}]},
                           headers=acme.headers)
    assert response.status_code == 422 and "phases[0].steps" in fields_of(response)


def test_a_patched_phase_without_steps_names_the_field(client, acme):
    flow = client.post("/v1/flows", json={"template": "sales"}, headers=acme.headers).json
    response = client.patch(f"/v1/flows/{flow['id']}", json={"phases": [{"name": "x"}] * 5}, headers=acme.headers)
    assert response.status_code == 422 and "phases[0].steps" in fields_of(response)


def test_a_credential_that_cannot_go_in_a_header_is_refused(client, acme):
    response = client.put("/v1/connections/hubspot", json={"access_token": "pat-na1-\u00e9\u00e9\u2603\u2603"},
                          headers=acme.headers)
    assert response.status_code == 422 and fields_of(response) == ["access_token"]


def test_a_huge_value_is_not_echoed_back(client, acme):
    huge = "a" * 1_000_000
    for response in (client.get(f"/v1/rules/{huge}", headers=acme.headers),
                     client.patch("/v1/settings", json={"timezone": huge}, headers=acme.headers),
                     client.post("/v1/events", json=event(properties={huge: 1}), headers=acme.headers)):
        assert 400 <= response.status_code < 500 and len(response.get_data()) < 5_000
