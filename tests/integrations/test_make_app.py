"""The Make app: built from the declarations, and every module's URL, method and fields exist in openapi.yaml."""

import json
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MAKE = ROOT / "integrations" / "make"
sys.path.insert(0, str(MAKE))
import build  # noqa: E402  (the Make app's own generator, beside its files)

SPEC = yaml.safe_load((ROOT / "openapi.yaml").read_text())
FILES = build.files(json.loads(build.DECLARATIONS.read_text()))


def operation(path: str, method: str) -> dict:
    assert path in SPEC["paths"], f"{path} is not in openapi.yaml"
    assert method.lower() in SPEC["paths"][path], f"{method} {path} is not in openapi.yaml"
    return SPEC["paths"][path][method.lower()]


def accepted(op: dict) -> set[str]:
    """The names an operation takes: its query parameters and its JSON body's properties."""
    names = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in body:
        body = SPEC["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return names | set(body.get("properties", {}))


def test_the_committed_files_are_what_build_writes():
    for path, content in FILES.items():
        assert json.loads((MAKE / path).read_text()) == content, f"run: python3 integrations/make/build.py ({path})"
    written = {str(p.relative_to(MAKE)) for p in MAKE.glob("*/*.json")} | {"base.json", "connection.json"}
    assert written == set(FILES)


@pytest.mark.parametrize("path", sorted(p for p in FILES if p.startswith("modules/") and "_instant" not in p))
def test_every_module_calls_a_documented_operation_with_its_fields(path):
    module = FILES[path]
    op = operation(module["communication"]["url"], module["communication"]["method"])
    unknown = {parameter["name"] for parameter in module["parameters"]} - accepted(op)
    assert not unknown, f"{path} sends fields the API does not take: {unknown}"


@pytest.mark.parametrize("path", sorted(p for p in FILES if p.startswith("webhooks/")))
def test_every_webhook_attaches_and_detaches_through_the_hooks_api(path):
    hook = FILES[path]
    attach = operation(hook["attach"]["url"], hook["attach"]["method"])
    assert set(hook["attach"]["body"]) <= accepted(attach)
    operation("/v1/hooks/{hook_id}", hook["detach"]["method"])
    trigger = operation(f"/v1/triggers/{hook['attach']['body']['event']}", "GET")
    assert {parameter["name"] for parameter in hook["parameters"]} <= accepted(trigger)


@pytest.mark.parametrize("path", [*sorted(p for p in FILES if p.startswith("rpcs/")), "connection.json"])
def test_rpcs_and_the_connection_check_call_documented_operations(path):
    content = FILES[path]
    url = content.get("url") or content["communication"]["url"].replace("{{parameters.base_url}}", "")
    operation(url, content.get("method") or content["communication"]["method"])
