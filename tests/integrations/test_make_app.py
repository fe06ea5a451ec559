"""The Make app: what build.py writes, valid against Make's own schemas, and calling documented operations."""

import fnmatch
import json
import sys
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry
from referencing.jsonschema import DRAFT7

ROOT = Path(__file__).resolve().parents[2]
MAKE = ROOT / "integrations" / "make"
SCHEMAS = ROOT.parent / "shared" / "platform-specs" / "make"
sys.path.insert(0, str(MAKE))
import build  # noqa: E402  (the Make app's own generator, beside its files)

SPEC = yaml.safe_load((ROOT / "openapi.yaml").read_text())
DECLARED = json.loads(build.DECLARATIONS.read_text())
FILES = build.files(DECLARED)
MANIFEST = FILES["makecomapp.json"]
MODULES = MANIFEST["components"]["module"]
# The schema Make's editor (the Apps SDK for VS Code) applies to each file, by the file's name; static parameters
# are parameters too, though the editor matches no schema to their file name.
APPLIED = (("*.static-params.iml.json", "parameters.json"), ("makecomapp.json", "makecomapp.schema.json"),
           ("base.iml.json", "base.json"),
           ("*.communication.iml.json", "api.json"), ("*.attach.iml.json", "api.json"),
           ("*.detach.iml.json", "api.json"), ("*.params.iml.json", "parameters.json"),
           ("*.mappable-params.iml.json", "parameters.json"), ("*.interface.iml.json", "parameters.json"),
           ("*.samples.iml.json", "samples.json"), ("*.scope.iml.json", "scope.json"),
           ("*.epoch.iml.json", "epoch.json"), ("groups.json", "groups.json"), ("*common.json", "common.json"))


def section(component: dict, code: str):
    return FILES[component["codeFiles"][code]]


def operation(path: str, method: str) -> dict:
    assert path in SPEC["paths"], f"{path} is not in openapi.yaml"
    assert method.lower() in SPEC["paths"][path], f"{method} {path} is not in openapi.yaml"
    return SPEC["paths"][path][method.lower()]


def schema(node: dict) -> dict:
    while "$ref" in node:
        node = SPEC["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def properties(node: dict) -> dict:
    """An object schema's properties (through $ref, allOf and arrays of it)."""
    node = schema(node)
    if node.get("type") == "array":
        return properties(node["items"])
    found = dict(node.get("properties", {}))
    for part in node.get("allOf", []) + node.get("anyOf", []):
        found.update(properties(part))
    return found


def query(op: dict) -> set[str]:
    return {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}


def body(op: dict) -> dict:
    return properties(op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {}))


def answer(op: dict) -> dict:
    return properties(op["responses"]["200"]["content"]["application/json"]["schema"])


def unknown(params: list[dict], known: dict) -> list[str]:
    """Names of parameters (collections included, recursively) that the schema's properties do not have."""
    missing = []
    for param in params:
        if param["name"] not in known:
            missing.append(param["name"])
        elif param.get("type") == "collection" and "spec" in param:
            missing += [f"{param['name']}.{name}" for name in unknown(param["spec"], properties(known[param["name"]]))]
    return missing


def test_the_committed_files_are_what_build_writes():
    for path, content in FILES.items():
        text = (MAKE / path).read_text()
        assert (text if isinstance(content, str) else json.loads(text)) == content, f"run: python3 {MAKE}/build.py"
    written = {str(p.relative_to(MAKE)) for folder in build.FOLDERS for p in (MAKE / folder).rglob("*") if p.is_file()}
    assert written | {"makecomapp.json"} == set(FILES)


@pytest.fixture(scope="module")
def validators() -> dict[str, Draft7Validator]:
    if not SCHEMAS.is_dir():
        pytest.skip(f"Make's app schemas are not at {SCHEMAS} (see shared/platform-specs/README.md)")
    base = "https://schemas.make.test/"
    resources = [(base + path.name, DRAFT7.create_resource(json.loads(path.read_text())))
                 for path in SCHEMAS.glob("*.json")]
    meta = ("http://json-schema.org/draft-07/schema", DRAFT7.create_resource(Draft7Validator.META_SCHEMA))
    registry = Registry().with_resources([*resources, meta])
    return {name: Draft7Validator({"$ref": base + name}, registry=registry) for _, name in APPLIED}


def test_every_section_is_valid_against_the_schema_makes_editor_applies(validators):
    problems, checked = [], set()
    for path, content in FILES.items():
        if path.endswith(".md"):
            continue
        name = next(name for pattern, name in APPLIED if fnmatch.fnmatch(Path(path).name, pattern))
        checked.add(name)
        problems += [f"{path}: {'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
                     for e in validators[name].iter_errors(content)]
    assert not problems, "\n".join(problems)
    assert checked == {name for _, name in APPLIED}


def test_the_manifest_names_every_file_and_every_module_its_connection():
    named = set(MANIFEST["generalCodeFiles"].values())
    for kind in MANIFEST["components"].values():
        for component in kind.values():
            named |= set(component["codeFiles"].values())
    assert named | {"makecomapp.json"} == set(FILES)
    assert all(module["connection"] == build.CONNECTION for module in MODULES.values())
    groups = [name for group in FILES["modules/groups.json"] for name in group["modules"]]
    assert sorted(groups) == sorted(MODULES)


@pytest.mark.parametrize("name", sorted(n for n, m in MODULES.items() if m["moduleType"] in ("action", "search")))
def test_actions_and_searches_take_mappable_fields_the_operation_accepts(name):
    module = MODULES[name]
    communication, expect = section(module, "communication"), section(module, "mappableParams")
    op = operation(communication["url"], communication["method"])
    assert expect and section(module, "staticParams") == [], "every field can be mapped from earlier modules"
    if module["moduleType"] == "search":
        assert set(communication["qs"]) <= query(op) and communication["response"]["limit"] == "{{parameters.limit}}"
        assert not [p["name"] for p in expect if p["name"] not in query(op)]
    else:
        assert set(communication["body"]) <= set(body(op)) and not unknown(expect, body(op))
    assert not unknown(section(module, "interface"), answer(op)), "the interface names what the API answers"


@pytest.mark.parametrize("unit", DECLARED["triggers"], ids=lambda unit: unit["key"])
def test_polling_triggers_mark_items_by_the_date_the_server_lists_them_by(unit):
    module = MODULES[build.camel("watch", unit["key"])]
    communication = section(module, "communication")
    op = operation(communication["url"], communication["method"])
    assert communication["response"]["trigger"] == {"type": "date", "order": "desc", "id": "{{item.id}}",
                                                    "date": f"{{{{item.{unit['cursor']}}}}}"}
    assert unit["cursor"] in answer(op) and section(module, "epoch")["response"]["output"]["date"]
    assert set(communication["qs"]) <= query(op) and not unknown(section(module, "staticParams"), {
        name: {} for name in query(op)})
    assert not unknown(section(module, "interface"), answer(op))


@pytest.mark.parametrize("name", sorted(MANIFEST["components"]["webhook"]))
def test_every_webhook_attaches_and_detaches_through_the_hooks_api(name):
    hook = MANIFEST["components"]["webhook"][name]
    attach, detach = section(hook, "attach"), section(hook, "detach")
    assert set(attach["body"]) <= set(body(operation(attach["url"], attach["method"])))
    operation("/v1/hooks/{hook_id}", detach["method"])
    polled = query(operation(f"/v1/triggers/{attach['body']['event']}", "GET"))
    assert set(attach["body"]["filters"]) <= polled and {p["name"] for p in section(hook, "params")} <= polled


def test_rpcs_and_the_connection_check_call_documented_operations():
    for rpc in MANIFEST["components"]["rpc"].values():
        communication = section(rpc, "communication")
        assert operation(communication["url"], communication["method"])
    check = section(MANIFEST["components"]["connection"][build.CONNECTION], "communication")
    operation(check["url"].replace("{{parameters.base_url}}", ""), check["method"])


def test_errors_are_typed_and_header_names_quoted():
    errors = FILES["general/base.iml.json"]["response"]["error"]
    assert errors["401"]["type"] == "InvalidAccessTokenError" and errors["429"]["type"] == "RateLimitError"
    assert "{{headers.`retry-after`}}" in errors["429"]["message"]
    assert MODULES["makeApiCall"]["moduleType"] == "universal"
