"""Helpers shared by the tests."""

from reengage import samples

# The sample contact as the tests send her: her own external id, and the time zone the flow tests schedule in.
DANA = {"external_id": "dana", **{name: samples.CONTACT[name] for name in ("email", "first_name", "phone")},
        "timezone": "America/New_York", "country": "US"}


def event(key: str = "evt-1", **fields) -> dict:
    """An event body with sensible defaults."""
    body = {"id": key, "type": "application_started", "contact": {"external_id": "user-1", "email": DANA["email"]}}
    body.update(fields)
    return body
