"""Helpers shared by the tests."""

import os

import pytest


def event(key: str = "evt-1", **fields) -> dict:
    """An event body with sensible defaults."""
    body = {"id": key, "type": "application_started", "contact": {"external_id": "user-1", "email": "dana@example.com"}}
    body.update(fields)
    return body

def settings(database_url: str, **overrides) -> dict:
    """Test settings: jobs run inline and no Redis unless a test asks for it."""
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "REDIS_URL": None,
        "JOBS_INLINE": True,
        "CLOCK_IN_PROCESS": False,
        "API_KEY_CACHE_SECONDS": 0,
        "RATE_LIMIT": "100000 per minute",
        **overrides,
    }

def require_service(name: str, reason: str) -> None:
    """Skip for a missing service, or fail when the run requires services."""
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{name} is required (REQUIRE_SERVICES=1) but {reason}")
    pytest.skip(f"{name} unavailable: {reason}")
