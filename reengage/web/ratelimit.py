"""Rate limiting of the API per account (Flask-Limiter): a 429 with Retry-After once a budget is spent.

Two budgets: RATE_LIMIT counts requests, EVENT_RATE_LIMIT counts the events posted to /v1/events
(a batch of N costs N), so one account's batches cannot take the server from the others.
Counters live in Redis when REDIS_URL is set, so every web process shares them; otherwise in this
process's memory (see counters: no thread per request). EVENT_BATCH_CONCURRENCY caps an account's event
requests in progress (see inflight). Health checks and the people-facing
pages are not limited; webhooks from SendGrid and HubSpot count against their sender's address.
"""

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many

from reengage.platform.auth import account_id, authenticate, hash_key, presented_key
from reengage.platform.errors import ApiError
from reengage.web import counters, inflight
from reengage.web.routes import events


def caller() -> str:
    """Whom a request counts against: its key's account, else the key (hashed), else its address."""
    key = presented_key()
    if key is None:
        return f"ip:{get_remote_address()}"
    try:
        # The same check (and cache) as the route's own; an invalid key is answered 401 by the route.
        authenticate()
    except ApiError:
        return f"key:{hash_key(key)[:32]}"
    return f"account:{account_id()}"


def events_sent() -> int:
    """What a request costs against the events budget: one per event it carries."""
    payload = request.get_json(silent=True)  # parsed once: the route reads Flask's cached copy
    if isinstance(payload, dict) and isinstance(payload.get("events"), list):
        return max(1, len(payload["events"]))
    return 1


def check_event_limit(limit: str, largest_batch: int) -> None:
    """Refuse an events budget that a full batch could never fit in."""
    try:
        items = parse_many(limit)
    except ValueError:
        raise RuntimeError(f"EVENT_RATE_LIMIT must be in Flask-Limiter's notation, not {limit!r}") from None
    if any(item.amount < largest_batch for item in items):
        raise RuntimeError(f"EVENT_RATE_LIMIT ({limit}) must allow a whole batch of {largest_batch} events")


def init_app(app: Flask) -> Limiter:
    """Limit every /v1 request to RATE_LIMIT, and posted events to EVENT_RATE_LIMIT, per account."""
    check_event_limit(app.config["EVENT_RATE_LIMIT"], app.config["MAX_EVENTS_PER_REQUEST"])
    inflight.init_app(app, "events.post_events")
    limiter = Limiter(
        caller, app=app, default_limits=[lambda: app.config["RATE_LIMIT"]],
        storage_uri=app.config["REDIS_URL"] or f"{counters.SCHEME}://", headers_enabled=True,
        key_prefix="reengage-rate",
        # A Redis outage must not take the API down with it: requests go unlimited meanwhile.
        swallow_errors=True,
    )
    # Only the API is limited (every limit is on a /v1 route). Filtered out before any limit is looked at: a request
    # it exempts then costs the limiter next to nothing, where an exemption of the default limits alone is decided
    # after every limit has been resolved for the route.
    limiter.request_filter(lambda: not request.path.startswith("/v1/"))
    # Tested before and spent after: a refused batch costs nothing, so its sender can split it and go on.
    limiter.limit(lambda: app.config["EVENT_RATE_LIMIT"], methods=["POST"], cost=events_sent, scope="events",
                  override_defaults=False, deduct_when=lambda response: response.status_code != 429,
                  error_message=lambda: f"{app.config['EVENT_RATE_LIMIT']} for events")(events.blp)
    return limiter
