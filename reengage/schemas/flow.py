"""Flows as the API takes and shows them: a definition (reengage.sequencing.definition) plus what is stored."""

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, fields, validate

from reengage.platform.fields import Int64
from reengage.sequencing.definition import FlowDefinitionSchema

# What a clone or a patch may leave out. Only these: a phase or step given is whole, never partial.
TOP_LEVEL = tuple(FlowDefinitionSchema._declared_fields)


class FlowInputSchema(FlowDefinitionSchema):
    """A new flow: `template` alone clones it (other fields override the template's), or a whole definition."""

    template = fields.String(allow_none=True, metadata={
        "description": "With no phases: the template to clone (GET /v1/templates). In an export: where it came from.",
        "example": "sales"})


class FlowPatchSchema(FlowDefinitionSchema):
    """Changes to a flow: each field given replaces the stored one (`phases` whole)."""


class FlowSchema(FlowDefinitionSchema):
    """A stored flow."""

    id = Int64(metadata={"example": 3})
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class TemplateSummarySchema(Schema):
    """A shipped template, in short."""

    key = fields.String(metadata={"example": "flow_failure_auth"})
    name = fields.String(metadata={"example": "Sign-in trouble (auth and MFA)"})
    family = fields.String(metadata={"example": "flow_failure"})
    description = fields.String()
    enroll_on = fields.List(fields.String(), metadata={"example": ["scenario:flow_failure.known_error/auth"]})
    steps = Int64(metadata={"example": 6})
    channels = fields.List(fields.String(), metadata={"example": ["email", "webhook"]})


class TemplateSchema(FlowDefinitionSchema):
    """A shipped template in full: what POST /v1/flows {"template": key} copies."""


class FlowRef(fields.String):
    """A flow named by its key or its id (a number, or digits in a string)."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"description": "The flow's key or id.", "example": "sales", **kwargs.pop("metadata", {})}
        super().__init__(validate=validate.Length(1, 100), metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs)
