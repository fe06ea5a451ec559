"""What openapi.yaml promises generated clients, read from the committed file."""

from pathlib import Path

import yaml

from reengage.web.contract import CONFLICTS, SIGNED

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())
OPERATIONS = [(method, path, operation) for path, item in SPEC["paths"].items()
              for method, operation in item.items() if method != "parameters"]


def _schemas(node):
    """Every schema object anywhere in `node`."""
    if isinstance(node, dict):
        if "type" in node or "enum" in node:
            yield node
        for value in node.values():
            yield from _schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schemas(value)


def test_every_operation_has_a_unique_operation_id_and_a_declared_tag():
    ids = [operation["operationId"] for _, _, operation in OPERATIONS]
    assert len(ids) == len(set(ids)) == len(OPERATIONS)
    declared = {tag["name"] for tag in SPEC["tags"]}
    assert all(operation["tags"] and set(operation["tags"]) <= declared for _, _, operation in OPERATIONS)


def test_the_servers_are_the_public_url():
    assert SPEC["servers"] == [{"url": "http://localhost:8000", "description": "This server (its PUBLIC_URL)."}]


def test_keyed_operations_list_401_and_429_with_retry_after():
    limited = SPEC["components"]["responses"]["RateLimited"]
    assert "Retry-After" in limited["headers"]
    for method, path, operation in OPERATIONS:
        if path.startswith("/v1/"):
            assert "429" in operation["responses"], (method, path)
        if operation.get("security") != []:
            assert "401" in operation["responses"], (method, path)


def test_every_conflict_named_is_an_operation_that_lists_409(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(CONFLICTS) | set(SIGNED) <= endpoints
    with_409 = [operation["operationId"] for _, _, operation in OPERATIONS if "409" in operation["responses"]]
    assert len(with_409) == len(CONFLICTS)


def test_a_nullable_enum_lists_null():
    nullable = [schema for schema in _schemas(SPEC) if schema.get("nullable") and "enum" in schema]
    assert nullable and all(None in schema["enum"] for schema in nullable)


def test_client_errors_use_the_error_body():
    for method, path, operation in OPERATIONS:
        for status, response in operation["responses"].items():
            if status.startswith("4") and isinstance(response, dict) and "$ref" not in response:
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, (
                    method, path, status)
