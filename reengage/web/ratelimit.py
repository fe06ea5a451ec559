"""Rate limiting of the API per API key (Flask-Limiter): a 429 with Retry-After once a key's budget is spent.

Counters live in Redis when REDIS_URL is set, so every web process shares them; otherwise in this
process's memory (the embedded default runs one process). Health checks and the people-facing
pages are not limited; webhooks from SendGrid and HubSpot count against their sender's address.
"""

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from reengage.platform.auth import hash_key, presented_key


def caller() -> str:
    """Whom a request counts against: its API key (hashed), else its address."""
    key = presented_key()
    return f"key:{hash_key(key)[:32]}" if key else f"ip:{get_remote_address()}"


def init_app(app: Flask) -> Limiter:
    """Limit every /v1 request to RATE_LIMIT per caller."""
    limiter = Limiter(
        caller, app=app, default_limits=[lambda: app.config["RATE_LIMIT"]],
        default_limits_exempt_when=lambda: not request.path.startswith("/v1/"),
        storage_uri=app.config["REDIS_URL"] or "memory://", headers_enabled=True, key_prefix="reengage-rate",
        # A Redis outage must not take the API down with it: requests go unlimited meanwhile.
        swallow_errors=True,
    )
    return limiter
