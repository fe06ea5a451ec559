#!/usr/bin/env python3
"""Write the Make app, in the Make Apps SDK's local project layout, from ../zapier/declarations.json.

    python3 integrations/make/build.py        # rewrite makecomapp.json and the section files beside it

`makecomapp.json` lists every component (connection, webhooks, modules, RPCs) and the file of each of its
sections; the Make Apps SDK for VS Code deploys the project from it. The declarations are exported by the
server itself (`flask integrations export`), so the modules offer exactly the fields the API takes;
tests/integrations/test_make_app.py checks the files against Make's schemas and openapi.yaml.
"""

import json
import re
import shutil
from pathlib import Path
from typing import Any

import sections

HERE = Path(__file__).resolve().parent
DECLARATIONS = HERE.parent / "zapier" / "declarations.json"
FOLDERS = ("general", "connections", "webhooks", "modules", "rpcs")
CONNECTION = "reengage"
# The action modules' kind, for Make's listing (create unless said otherwise).
CRUD = {"update-contact": "update", "exit": "update", "service-status": "update", "render": "read"}
ERROR = "[{{statusCode}}] {{body.error.message}}"
# Sections each kind of module has, in the SDK's order (epoch only on polling triggers, scope not on instant ones).
MODULE_CODES = ("communication", "epoch", "staticParams", "mappableParams", "interface", "samples", "scope")
FILE_NAMES = {"staticParams": "static-params", "mappableParams": "mappable-params"}


def camel(*words: str) -> str:
    """`watch`, `dropoff.detected` -> `watchDropoffDetected` (Make's module and RPC names)."""
    parts = [part for word in words for part in re.split(r"[.\-_]", word) if part]
    return parts[0] + "".join(part.capitalize() for part in parts[1:])


def kebab(name: str) -> str:
    """`watchDropoffDetected` -> `watch-dropoff-detected` (the SDK's folder and file names)."""
    return re.sub(r"(?<!^)([A-Z])", r"-\1", name).lower()


def general() -> dict[str, Any]:
    """The app's own sections: the base (server, key, typed errors) and common data."""
    return {
        "general/base.iml.json": {
            "baseUrl": "{{connection.base_url}}",
            "headers": {"Authorization": "Bearer {{connection.api_key}}"},
            "response": {"error": {
                "message": ERROR,
                "401": {"type": "InvalidAccessTokenError",
                        "message": "[401] The API key was refused (revoked or mistyped): {{body.error.message}}"},
                "422": {"type": "DataError", "message": ERROR},
                "429": {"type": "RateLimitError",
                        "message": "[429] Rate limited: retry after {{headers.`retry-after`}} s"}}},
            "log": {"sanitize": ["request.headers.authorization"]},
        },
        "general/common.json": {},
    }


def connection() -> dict[str, Any]:
    """Server URL and API key, checked with `GET /v1/me` and labelled with the account's name."""
    return {
        "communication": {"url": "{{parameters.base_url}}/v1/me", "method": "GET",
                          "headers": {"Authorization": "Bearer {{parameters.api_key}}"},
                          "response": {"metadata": {"type": "text", "value": "{{body.name}}"},
                                       "error": {"message": ERROR,
                                                 "401": {"type": "InvalidAccessTokenError", "message": ERROR}}},
                          "log": {"sanitize": ["request.headers.authorization"]}},
        "params": [
            {"name": "base_url", "label": "Server URL", "type": "url", "required": True,
             "help": "Where your Reengage server is reached, such as https://reengage.example.com."},
            {"name": "api_key", "label": "API key", "type": "password", "required": True,
             "help": "An API key of the account; it starts with rk_."},
        ],
        "common": {},
    }


def webhook(declared: dict[str, Any], rpcs: dict[str, str]) -> dict[str, Any]:
    """A dedicated webhook: attached with `POST /v1/hooks` (keeping its id), detached with `DELETE`."""
    return {
        "communication": {"output": "{{body}}"},
        "params": sections.parameters(declared["filters"], rpcs),
        "attach": {"url": "/v1/hooks", "method": "POST",
                   "body": {"target_url": "{{webhook.url}}", "event": declared["key"],
                            "filters": sections.references(declared["filters"]), "label": "make"},
                   "response": {"data": {"externalHookId": "{{body.id}}"}}},
        "detach": {"url": "/v1/hooks/{{webhook.externalHookId}}", "method": "DELETE"},
    }


def components(declared: dict[str, Any]) -> dict[str, dict[str, tuple[dict[str, Any], dict[str, Any]]]]:
    """Every component by type and name: (its metadata, its sections by code type)."""
    rpcs = {source["key"]: camel("list", source["key"]) for source in declared["options"]}
    found: dict[str, dict[str, tuple[dict[str, Any], dict[str, Any]]]] = {
        "connection": {CONNECTION: ({"label": "Reengage", "connectionType": "basic"}, connection())},
        "webhook": {}, "module": {}, "rpc": {}}
    modules = found["module"]
    linked = {"connection": CONNECTION}
    for unit in declared["triggers"]:
        about = {"label": unit["label"], "description": unit["description"], **linked}
        modules[camel("watch", unit["key"])] = (
            {**about, "label": f"Watch {unit['label']}", "moduleType": "trigger"},
            {**sections.trigger(unit, rpcs), "interface": sections.interface(unit["outputs"]),
             "samples": unit["sample"]})
        hook = kebab(camel(unit["key"]))
        found["webhook"][hook] = ({"label": unit["label"], "webhookType": "web", **linked}, webhook(unit, rpcs))
        modules[camel(unit["key"], "instant")] = (
            {**about, "label": f"{unit['label']} (instant)", "moduleType": "instant_trigger", "webhook": hook},
            # The webhook makes the bundle; an empty communication (the SDK's default) passes it on as it is.
            {"communication": {}, "staticParams": [], "mappableParams": [],
             "interface": sections.interface(unit["outputs"]), "samples": unit["sample"]})
    for kind, units, build in (("action", declared["actions"], sections.action),
                               ("search", declared["searches"], sections.search)):
        for unit in units:
            about = {"label": unit["label"], "description": unit["description"], "moduleType": kind, **linked}
            if kind == "action":
                about["actionCrud"] = CRUD.get(unit["key"], "create")
            modules[camel(unit["key"])] = (about, {**build(unit, rpcs), "interface": sections.interface(
                unit["outputs"]), "samples": unit["sample"]})
    modules["makeApiCall"] = ({"label": "Make an API Call", "moduleType": "universal", **linked,
                               "description": "Call any route of the Reengage API with the connection's key."},
                              sections.universal())
    for source in declared["options"]:
        found["rpc"][rpcs[source["key"]]] = ({"label": f"List {source['key']}", **linked}, {
            "communication": {"url": source["path"], "method": "GET",
                              "response": {"iterate": "{{body}}",
                                           "output": {"label": "{{item.name}}", "value": "{{item.id}}"}}},
            "params": []})
    return found



def files(declared: dict[str, Any]) -> dict[str, Any]:
    """Every file of the project by path, `makecomapp.json` first."""
    out: dict[str, Any] = {"makecomapp.json": None, **general()}
    manifest: dict[str, Any] = {
        "fileVersion": 1,
        "generalCodeFiles": {"base": "general/base.iml.json", "common": "general/common.json",
                             "readme": "general/readme.md", "groups": "modules/groups.json"},
        "components": {kind: {} for kind in ("connection", "webhook", "module", "rpc", "function", "endpoint")},
        "origins": [],
    }
    for kind, found in components(declared).items():
        for name, (about, codes) in found.items():
            if kind == "module":
                codes = {"scope": [], **codes} if about["moduleType"] != "instant_trigger" else codes
                codes = {code: codes[code] for code in MODULE_CODES if code in codes}
            folder = f"{kind}s/{kebab(name)}"
            paths = {code: f"{folder}/{kebab(name)}.{FILE_NAMES.get(code, code)}.{ext(code)}" for code in codes}
            manifest["components"][kind][name] = {**about, "codeFiles": paths}
            out.update({paths[code]: content for code, content in codes.items()})
    modules = manifest["components"]["module"]
    out["modules/groups.json"] = [
        {"label": label, "modules": [name for name, about in modules.items() if about["moduleType"] in kinds]}
        for label, kinds in (("Triggers", ("trigger", "instant_trigger")), ("Actions", ("action",)),
                             ("Searches", ("search",)), ("Other", ("universal",)))]
    out["general/readme.md"] = readme(declared)
    out["makecomapp.json"] = manifest
    return out


def ext(code: str) -> str:
    return "json" if code == "common" else "iml.json"


def readme(declared: dict[str, Any]) -> str:
    """The app's documentation page in Make."""
    lines = ["# Reengage", "", "Detects people who drop off a funnel and brings them back with timed sequences.", "",
             "Connect with your **Server URL** and an **API key** of your account.", "", "## Modules", ""]
    for kind in ("triggers", "actions", "searches"):
        lines += [f"- **{unit['label']}**: {unit['description']}" for unit in declared[kind]]
    return "\n".join([*lines, "- **Make an API Call**: any route of the Reengage API.", ""])


def main() -> None:
    for folder in FOLDERS:
        shutil.rmtree(HERE / folder, ignore_errors=True)
    for path, content in files(json.loads(DECLARATIONS.read_text())).items():
        (HERE / path).parent.mkdir(parents=True, exist_ok=True)
        text = content if isinstance(content, str) else json.dumps(content, indent=2) + "\n"
        (HERE / path).write_text(text)


if __name__ == "__main__":
    main()
