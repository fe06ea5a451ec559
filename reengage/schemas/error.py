"""The error body every 4xx and 5xx answer has."""

from marshmallow import Schema, fields


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(
        required=True, metadata={"example": "Invalid input: contact.email: Not a valid email address."}
    )
    details = fields.Dict(
        required=True,
        metadata={"example": {"fields": [{"field": "contact.email", "message": "Not a valid email address."}]}},
    )


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)
