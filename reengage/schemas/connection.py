"""What every connection shows: its state; each provider declares the rest (reengage.providers)."""

from marshmallow import Schema, fields


class ConnectionStatusSchema(Schema):
    """Whether the service took the credentials the last time they were used or checked."""

    status = fields.String(metadata={"description": "unchecked, ok, or broken (the service refused the credentials).",
                                     "example": "ok"})
    status_reason = fields.String(allow_none=True, metadata={"example": None})
    checked_at = fields.AwareDateTime(allow_none=True)
    updated_at = fields.AwareDateTime()


WRITE_ONLY = "Write-only: kept encrypted, never answered. Omit it to keep the stored one."
