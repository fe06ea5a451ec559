"""Every id the spec declares, on every operation (path, query or body), out of int64's range: a 404 or a 422
naming it, never a 5xx."""

import re
from pathlib import Path

import pytest
import yaml

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())
OUT_OF_RANGE = (2**63, 2**64, -(2**63) - 1, 10**40)


def _integer(parameter: dict) -> bool:
    return parameter.get("schema", {}).get("type") == "integer"


def _operations() -> list[tuple[str, str, dict]]:
    return [(method, path, {"parameters": [*item.get("parameters", []), *operation.get("parameters", [])]})
            for path, item in SPEC["paths"].items() for method, operation in item.items() if method != "parameters"]


PATH_IDS = [(method, path) for method, path, op in _operations()
            if any(_integer(p) and p["in"] == "path" for p in op.get("parameters", []))]
def _properties(schema: dict) -> dict:
    """A request body's top-level properties (through $ref and allOf)."""
    while "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    found = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        found.update(_properties(part))
    return found


BODY_IDS = [(method, path, name) for path, item in SPEC["paths"].items() for method, op in item.items()
            if method != "parameters" for name, prop in _properties(
                op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})).items()
            if prop.get("type") == "integer" and name.endswith("_id")]
QUERY_IDS = [(method, path, p["name"]) for method, path, op in _operations()
             for p in op.get("parameters", []) if _integer(p) and p["in"] == "query"]


def test_the_spec_has_ids_to_check():
    assert len(PATH_IDS) >= 18 and len(QUERY_IDS) >= 30 and len(BODY_IDS) >= 10


@pytest.mark.parametrize(("method", "path"), PATH_IDS, ids=lambda value: str(value))
def test_an_out_of_range_path_id_is_not_found(client, acme, method, path):
    for value in OUT_OF_RANGE:
        url = re.sub(r"{\w*id}", str(value), path)
        response = client.open(url, method=method.upper(), headers=acme.headers, json={} if method != "get" else None)
        assert response.status_code == 404, (url, response.status_code, response.get_data(as_text=True)[:300])
        assert response.json["error"]["code"] == "not_found"


@pytest.mark.parametrize(("method", "path", "name"), QUERY_IDS, ids=lambda value: str(value))
def test_an_out_of_range_query_number_names_the_parameter(client, acme, method, path, name):
    for value in OUT_OF_RANGE:
        url = re.sub(r"{\w*id}", "1", path)  # query parameters are checked before the path's id is looked up
        response = client.open(url, method=method.upper(), headers=acme.headers, query_string={name: value})
        assert response.status_code == 422, (path, name, value, response.status_code)
        fields = [problem["field"] for problem in response.json["error"]["details"]["fields"]]
        assert name in fields, (path, name, fields)


@pytest.mark.parametrize(("method", "path", "name"), BODY_IDS, ids=lambda value: str(value))
def test_an_out_of_range_body_id_names_the_field(client, acme, method, path, name):
    for value in OUT_OF_RANGE:
        response = client.open(path, method=method.upper(), headers=acme.headers, json={name: value})
        assert response.status_code == 422, (path, name, value, response.status_code)
        fields = [problem["field"] for problem in response.json["error"]["details"]["fields"]]
        assert name in fields, (path, name, fields)
