"""The definition of our custom workflow action, as HubSpot's automation actions API (2026-03) registers it."""

from typing import Any

from connectors.hubspot import DEFINITIONS_PATH
from reengage.providers.hubspot.inbound import FIELDS

__all__ = ["DEFINITIONS_PATH", "definition"]

INPUTS = (
    ("flow", "string", "text", "Flow", "The key of the Reengage flow to enroll the record in."),
    ("event_type", "string", "text", "Event type", "An event to record for the record, e.g. demo_no_show."),
    ("wait_for_outcome", "enumeration", "select", "Wait for the outcome",
     "Hold the record here until the flow ends, then go on with `recovered`."),
)
OUTPUTS = (("enrollment_id", "string", "Enrollment id"), ("enrollment_status", "string", "Enrollment status"),
           ("exit_reason", "string", "Exit reason"), ("recovered", "bool", "Recovered"),
           ("event_status", "string", "Event status"), ("error", "string", "Error"))


def definition(action_url: str, published: bool = True) -> dict[str, Any]:
    """The body of `POST /automation/actions/2026-03/{appId}` for this account's action URL."""
    input_fields = []
    for name, kind, field_type, _, _ in INPUTS:
        spec: dict[str, Any] = {"name": name, "type": kind, "fieldType": field_type}
        if kind == "enumeration":
            spec["options"] = [{"value": "false", "label": "No"}, {"value": "true", "label": "Yes"}]
        input_fields.append({"typeDefinition": spec, "supportedValueTypes": ["STATIC_VALUE"], "isRequired": False})
    return {
        "actionUrl": action_url,
        "published": published,
        "objectTypes": ["CONTACT"],
        # HubSpot sends these properties of the enrolled contact with every call.
        "objectRequestOptions": {"properties": [*FIELDS, "phone"]},
        "inputFields": input_fields,
        "outputFields": [{"typeDefinition": {"name": name, "type": kind}, "supportedValueTypes": ["STATIC_VALUE"]}
                         for name, kind, _ in OUTPUTS],
        "labels": {"en": {
            "actionName": "Re-engage with Reengage",
            "actionDescription": "Enroll the contact in a Reengage flow, or record an event for it.",
            "actionCardContent": "Enroll in {{flow}}",
            "inputFieldLabels": {name: label for name, _, _, label, _ in INPUTS},
            "inputFieldDescriptions": {name: text for name, _, _, _, text in INPUTS},
            "outputFieldLabels": {name: label for name, _, label in OUTPUTS},
        }},
    }
