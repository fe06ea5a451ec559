"""Helpers shared by the tests."""


def event(key: str = "evt-1", **fields) -> dict:
    """An event body with sensible defaults."""
    body = {"id": key, "type": "application_started", "contact": {"external_id": "user-1", "email": "dana@example.com"}}
    body.update(fields)
    return body
