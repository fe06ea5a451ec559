"""The sections of each Make component (communication, parameters, interface, epoch...) from one declared unit.

Make reads parameters as `{{parameters.<name>}}`; a collection parameter is sent as an object, so a nested
field (`message.cta.label`) becomes collections inside collections and reaches the API as JSON objects.
"""

from typing import Any

# Declared field types as Make parameter types.
TYPES = {"integer": "number", "number": "number", "boolean": "boolean", "datetime": "date", "dict": "any",
         "list": "array", "string": "text"}
LIMIT = {"name": "limit", "label": "Limit", "type": "uinteger", "default": 10, "required": False,
         "help": "The most results to return (up to 100).", "validate": {"min": 1, "max": 100}}


def parameters(fields: list[dict[str, Any]], rpcs: dict[str, str]) -> list[dict[str, Any]]:
    """Make parameters; dotted keys (`message.cta.label`) become nested collections (`message` > `cta` > `label`)."""
    made: list[dict[str, Any]] = []
    groups: dict[str, list[dict[str, Any]]] = {}
    for field in fields:
        head, _, rest = field["key"].partition(".")
        if not rest:
            made.append(parameter(field, rpcs))
            continue
        if head not in groups:
            groups[head] = []
            made.append({"name": head, "label": head.replace("_", " ").capitalize(), "type": "collection"})
        groups[head].append({**field, "key": rest})
    for param in made:
        if param["type"] == "collection":
            param["spec"] = parameters(groups[param["name"]], rpcs)
            param["required"] = any(child.get("required") for child in param["spec"])
    return made


def parameter(field: dict[str, Any], rpcs: dict[str, str]) -> dict[str, Any]:
    """One Make parameter from one declared field."""
    made = {"name": field["key"], "label": field["label"], "type": TYPES[field["type"]], "required": field["required"]}
    if field.get("help"):
        made["help"] = field["help"]
    if field.get("choices"):
        made["type"], made["options"] = "select", [{"label": c, "value": c} for c in field["choices"]]
    if field.get("dynamic"):
        made["type"], made["options"] = "select", f"rpc://{rpcs[field['dynamic']]}"
    return made


def interface(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a module outputs, from the declared item schema, so later modules can map each field."""
    made = []
    for output in outputs:
        entry: dict[str, Any] = {"name": output["key"], "label": output["label"], "type": TYPES[output["type"]]}
        if output["type"] == "dict":
            entry["type"] = "collection" if "fields" in output else "any"
            if "fields" in output:
                entry["spec"] = interface(output["fields"])
        elif output["type"] == "list":
            entry["spec"] = ({"type": "collection", "spec": interface(output["fields"])} if "fields" in output
                             else {"type": TYPES[output.get("of", "string")]})
        made.append(entry)
    return made


def references(fields: list[dict[str, Any]]) -> dict[str, str]:
    """The request's top-level names, each read from its parameter (Make leaves out the ones not filled in)."""
    names = dict.fromkeys(field["key"].partition(".")[0] for field in fields)
    return {name: f"{{{{parameters.{name}}}}}" for name in names}


def trigger(declared: dict[str, Any], rpcs: dict[str, str]) -> dict[str, Any]:
    """A polling trigger: newest first by the item field the server lists by (Make keeps the newest date seen)."""
    cursor, label = declared["cursor"], declared["noun"]
    with_contact = any(output["key"] == "contact" for output in declared["outputs"])
    return {
        "communication": {
            "url": declared["path"], "method": "GET",
            "qs": {**references(declared["filters"]), "limit": "{{parameters.limit}}"},
            "response": {"iterate": "{{body}}", "output": "{{item}}", "limit": "{{parameters.limit}}",
                         "trigger": {"type": "date", "order": "desc", "id": "{{item.id}}",
                                     "date": f"{{{{item.{cursor}}}}}"}}},
        "epoch": {"qs": {"limit": 100},
                  "response": {"output": {"label": f"{label} {{{{item.id}}}}" + (
                      " ({{item.contact.name}})" if with_contact else ""), "date": f"{{{{item.{cursor}}}}}"}}},
        "staticParams": [*parameters(declared["filters"], rpcs), {**LIMIT, "default": 50}],
        "mappableParams": [],
    }


def action(declared: dict[str, Any], rpcs: dict[str, str]) -> dict[str, Any]:
    """An action: every field mappable, sent as a JSON body."""
    return {
        "communication": {"url": declared["path"], "method": "POST", "body": references(declared["fields"]),
                          "response": {"output": "{{body}}"}},
        "staticParams": [],
        "mappableParams": parameters(declared["fields"], rpcs),
    }


def search(declared: dict[str, Any], rpcs: dict[str, str]) -> dict[str, Any]:
    """A search: every field mappable, sent as a query; no match is no bundle."""
    return {
        "communication": {"url": declared["path"], "method": "GET",
                          "qs": {**references(declared["fields"]), "limit": "{{parameters.limit}}"},
                          "response": {"iterate": "{{body}}", "output": "{{item}}", "limit": "{{parameters.limit}}"}},
        "staticParams": [],
        "mappableParams": [*parameters(declared["fields"], rpcs), LIMIT],
    }


def universal() -> dict[str, Any]:
    """Make an API call: any documented route, with the connection's server and key."""
    return {
        "communication": {"url": "{{parameters.url}}", "method": "{{parameters.method}}",
                          "body": "{{parameters.body}}", "type": "json",
                          "response": {"output": {"body": "{{body}}", "headers": "{{headers}}",
                                                  "statusCode": "{{statusCode}}"}}},
        "staticParams": [],
        "mappableParams": [
            {"name": "url", "label": "URL", "type": "text", "required": True,
             "help": "A path of the Reengage API, such as `/v1/dropoffs?status=open` (see openapi.yaml)."},
            {"name": "method", "label": "Method", "type": "select", "required": True, "default": "GET",
             "options": [{"label": m, "value": m} for m in ("GET", "POST", "PUT", "PATCH", "DELETE")]},
            {"name": "body", "label": "Body", "type": "any", "required": False,
             "help": "A JSON body, for POST, PUT and PATCH."},
        ],
        "interface": [{"name": "body", "label": "Body", "type": "any"},
                      {"name": "headers", "label": "Headers", "type": "any"},
                      {"name": "statusCode", "label": "Status code", "type": "number"}],
        "samples": {"body": {"id": 42, "name": "Dana Reyes"}, "headers": {"content-type": "application/json"},
                    "statusCode": 200},
    }
