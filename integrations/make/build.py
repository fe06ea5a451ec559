#!/usr/bin/env python3
"""Write the Make custom app (base, connection, modules, RPCs, webhooks) from ../zapier/declarations.json.

    python3 integrations/make/build.py        # rewrite the files next to this script

The declarations are exported by the server itself (`flask integrations export`), so the modules
offer exactly the fields the API takes; tests/integrations/test_make_app.py checks both.
"""

import json
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
DECLARATIONS = HERE.parent / "zapier" / "declarations.json"
TYPES = {"integer": "number", "number": "number", "boolean": "boolean", "datetime": "date", "dict": "any",
         "list": "array"}
# Make module type ids: 1 polling trigger, 4 action, 9 search, 10 instant trigger.
ACTION, SEARCH, POLLING, INSTANT = 4, 9, 1, 10


def name_of(key: str) -> str:
    return key.replace(".", "_").replace("-", "_")


def parameters(fields: list[dict]) -> list[dict]:
    """Make parameters; dotted keys (contact.email) become a collection (contact) with its own fields."""
    top: list[dict] = []
    groups: dict[str, dict] = {}
    for field in fields:
        head, _, rest = field["key"].partition(".")
        if rest:
            if head not in groups:
                groups[head] = {"name": head, "label": head.replace("_", " ").capitalize(), "type": "collection",
                                "spec": []}
                top.append(groups[head])
            groups[head]["spec"].append(parameter({**field, "key": rest}))
        else:
            top.append(parameter(field))
    return top


def parameter(field: dict) -> dict:
    made = {"name": field["key"], "label": field["label"], "type": TYPES.get(field["type"], "text"),
            "required": field["required"]}
    if field.get("help"):
        made["help"] = field["help"]
    if field.get("choices"):
        made["type"], made["options"] = "select", [{"label": c, "value": c} for c in field["choices"]]
    if field.get("dynamic"):
        made["type"], made["options"] = "select", f"rpc://list_{field['dynamic']}"
    return made


def files(declared: dict) -> dict[str, dict]:
    """Every file of the app, by path."""
    out: dict[str, dict] = {
        "base.json": {
            "baseUrl": "{{connection.base_url}}",
            "headers": {"Authorization": "Bearer {{connection.api_key}}"},
            "response": {"error": {"message": "[{{statusCode}}] {{body.error.message}}",
                                   "429": {"message": "Rate limited: retry after {{headers.'retry-after'}} s"}}},
            "log": {"sanitize": ["request.headers.authorization"]},
        },
        "connection.json": {
            "label": "Reengage", "type": "basic",
            "parameters": [
                {"name": "base_url", "label": "Server URL", "type": "url", "required": True,
                 "help": "Where your Reengage server is reached, such as https://reengage.example.com."},
                {"name": "api_key", "label": "API key", "type": "password", "required": True,
                 "help": "An API key of the account; it starts with rk_."},
            ],
            "communication": {"url": "{{parameters.base_url}}/v1/me", "method": "GET",
                              "headers": {"Authorization": "Bearer {{parameters.api_key}}"},
                              "response": {"metadata": {"type": "text", "value": "{{body.name}}"},
                                           "error": {"message": "[{{statusCode}}] {{body.error.message}}"}}},
        },
    }
    for trigger in declared["triggers"]:
        name, filters = name_of(trigger["key"]), parameters(trigger["filters"])
        out[f"modules/watch_{name}.json"] = {
            "label": f"Watch {trigger['label']}", "description": trigger["description"], "typeId": POLLING,
            "communication": {"url": trigger["path"], "method": "GET", "qs": "{{parameters}}",
                              "response": {"iterate": "{{body}}", "output": "{{item}}",
                                           "trigger": {"id": "{{item.id}}", "type": "id", "order": "desc"}}},
            "parameters": filters, "samples": trigger["sample"]}
        out[f"modules/{name}_instant.json"] = {
            "label": f"{trigger['label']} (instant)", "description": trigger["description"], "typeId": INSTANT,
            "webhook": f"{name}", "communication": {"output": "{{body}}"}, "samples": trigger["sample"]}
        out[f"webhooks/{name}.json"] = {
            "type": "dedicated", "parameters": filters,
            "attach": {"url": "/v1/hooks", "method": "POST",
                       "body": {"target_url": "{{webhook.url}}", "event": trigger["key"], "filters": "{{parameters}}",
                                "label": "make"},
                       "response": {"data": {"externalHookId": "{{body.id}}"}}},
            "detach": {"url": "/v1/hooks/{{webhook.externalHookId}}", "method": "DELETE"}}
    for action in declared["actions"]:
        out[f"modules/{name_of(action['key'])}.json"] = {
            "label": action["label"], "description": action["description"], "typeId": ACTION,
            "communication": {"url": action["path"], "method": "POST", "body": "{{omit(parameters, 'undefined')}}",
                              "response": {"output": "{{body}}"}},
            "parameters": parameters(action["fields"]), "samples": action["sample"]}
    for search in declared["searches"]:
        out[f"modules/{name_of(search['key'])}.json"] = {
            "label": search["label"], "description": search["description"], "typeId": SEARCH,
            "communication": {"url": search["path"], "method": "GET", "qs": "{{parameters}}",
                              "response": {"iterate": "{{body}}", "output": "{{item}}"}},
            "parameters": parameters(search["fields"]), "samples": search["sample"]}
    for source in declared["options"]:
        out[f"rpcs/list_{source['key']}.json"] = {
            "label": f"List {source['key']}", "url": source["path"], "method": "GET",
            "response": {"iterate": "{{body}}", "output": {"label": "{{item.name}}", "value": "{{item.id}}"}}}
    return out


def main() -> None:
    for folder in ("modules", "rpcs", "webhooks"):
        shutil.rmtree(HERE / folder, ignore_errors=True)
    for path, content in files(json.loads(DECLARATIONS.read_text())).items():
        (HERE / path).parent.mkdir(parents=True, exist_ok=True)
        (HERE / path).write_text(json.dumps(content, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
