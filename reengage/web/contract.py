"""What openapi.yaml promises beyond each route's own schemas: operation ids, error answers, servers, null enums.

One apispec plugin reads each route as it is added to the spec and completes its operations the same way
everywhere, so generated clients (openapi-python-client, Zapier, Make) meet every answer the server can give.
"""

from typing import Any

from apispec import APISpec, BasePlugin
from flask import Flask
from marshmallow import fields
from werkzeug.routing import Rule

from reengage.platform.auth import authenticate

# Where a request can meet a conflict with what is stored (endpoint: why), answered 409 with the Error body.
CONFLICTS = {
    "contacts.upsert_contact": "An identifier given belongs to another contact (`contact_conflict`).",
    "events.post_events": "An event's contact identifiers belong to two different contacts (`contact_conflict`).",
    "rules.create_rule": "A rule with this key exists.",
    "flows.create_flow": "A flow with this key exists, or a selector is held by another flow.",
    "flows.patch_flow": "A flow with this key exists, or a selector is held by another flow.",
    "dropoffs.dismiss_dropoff": "The dropoff is recovered.",
    "deals.upsert_deal": "The deal's contact identifiers belong to two different contacts (`contact_conflict`).",
    "actions.action_enroll": "The flow cools down for this contact (`cooldown`), or its identifiers conflict.",
    "actions.action_send_phase_message": "The flow cools down for this contact (`cooldown`), or its identifiers "
                                         "conflict.",
    "actions.action_update_contact": "An identifier given belongs to another contact (`contact_conflict`).",
    "actions.action_record_event": "The event's contact identifiers belong to two contacts (`contact_conflict`).",
    "actions.action_record_deal": "The deal's contact identifiers belong to two contacts (`contact_conflict`).",
}
# Webhooks that carry no key but their sender's signature: a bad or stale one is a 401.
SIGNED = ("sendgrid.sendgrid_events", "hubspot.workflow_webhook", "hubspot.custom_action")
ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
ERRORS = {
    "400": ("InvalidJson", "The body is not valid JSON (`invalid_json`)."),
    "401": ("Unauthorized", "The API key (or a webhook's signature) is missing, wrong, stale or revoked."),
    "404": ("NotFound", "Nothing of this account has this id or key (`not_found`); an id above 2^63-1 included."),
    "429": ("RateLimited", "The account's request budget (`RATE_LIMIT`) is spent; posting events, its events budget "
                           "(`EVENT_RATE_LIMIT`) or its batches in progress (`EVENT_BATCH_CONCURRENCY`) are; or, "
                           "where templates are rendered, its templates refused as over the render budget "
                           "(`TEMPLATE_REFUSAL_LIMIT`) are (`rate_limited`)."),
}
RETRY_AFTER = {"description": "Seconds to wait before trying again.", "schema": {"type": "integer", "minimum": 0}}
# The budget a refused request met (reengage.web.ratelimit); an answer it counted carries them for the request budget.
BUDGET_HEADERS = {
    "X-RateLimit-Limit": {"description": "What the budget allows in its window.", "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "What is left of it in this window.",
                              "schema": {"type": "integer", "minimum": 0}},
    "X-RateLimit-Reset": {"description": "When the window ends, in seconds since the epoch.",
                          "schema": {"type": "integer"}},
}
WITH_BODY = ("post", "put", "patch")


def init_spec(spec: APISpec) -> None:
    """Register the error answers every operation refers to (429 with its Retry-After header)."""
    for status, (name, description) in ERRORS.items():
        response: dict[str, Any] = {"description": description, "content": ERROR_BODY}
        if status == "429":
            response["headers"] = {"Retry-After": RETRY_AFTER, **BUDGET_HEADERS}
        spec.components.response(name, response)


def operation_id(endpoint: str) -> str:
    """`contacts.list_contacts` as `listContacts`: the view's name, in the camelCase generators expect."""
    first, *rest = endpoint.split(".", 1)[-1].split("_")
    return first + "".join(word[:1].upper() + word[1:] for word in rest)


class ContractPlugin(BasePlugin):
    """Gives every operation an operationId, and the error answers and security that hold for its route."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.seen: dict[str, str] = {}

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        rule: Rule | None = kwargs.get("rule")
        if rule is None or operations is None:
            return
        blueprint = rule.endpoint.split(".", 1)[0]
        keyed = authenticate in self.app.before_request_funcs.get(blueprint, [])
        for method, operation in operations.items():
            name = operation_id(rule.endpoint) if len(operations) == 1 else f"{method}{operation_id(rule.endpoint)}"
            if self.seen.setdefault(name, rule.endpoint) != rule.endpoint:
                raise RuntimeError(f"operationId {name!r} of {rule.endpoint} is taken by {self.seen[name]}")
            operation["operationId"] = name
            responses = operation.setdefault("responses", {})
            applies = {"400": method in WITH_BODY and "requestBody" in operation,
                       "401": keyed or rule.endpoint in SIGNED, "404": bool(rule.arguments),
                       "429": rule.rule.startswith("/v1/")}
            for status in (status for status, holds in applies.items() if holds):
                responses.setdefault(status, ERRORS[status][0])
            if rule.endpoint in CONFLICTS:
                responses.setdefault("409", {"description": CONFLICTS[rule.endpoint], "content": ERROR_BODY})
            # One-line docstrings give a summary only; the description repeats it for tools that read that.
            operation.setdefault("description", operation.get("summary", ""))
            if not keyed:
                operation["security"] = []  # no key: health checks, and webhooks that carry their own token


def null_in_enum(self: Any, field: fields.Field, ret: dict, **kwargs: Any) -> dict:
    """A nullable field's enum lists `null` too, or a generated client refuses the nulls it is sent."""
    if field.allow_none and "enum" in ret and None not in ret["enum"]:
        return {"enum": [*ret["enum"], None]}
    return {}
