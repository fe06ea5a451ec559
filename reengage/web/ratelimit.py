"""Rate limiting of the API per account: a 429 with Retry-After once a budget is spent.

Two budgets, counted in fixed windows that start on the clock (each minute, each hour), written in the notation of
the `limits` library and kept in its storage: RATE_LIMIT counts an account's requests to the API (every /v1 route
together), EVENT_RATE_LIMIT the events posted to /v1/events (a batch of N costs N), so one account's batches cannot
take the server from the others. The events budget is tested before the request and spent after it, unless it was
refused: a refused batch costs nothing, so its sender can split it and go on. Counters live in Redis when REDIS_URL
is set, so every web process shares them; otherwise in this process's memory (see counters: no thread per request).
A Redis outage, or a database that cannot say whose key a request carries, lets requests through unlimited rather
than failing them. A /v1 answer it counted carries X-RateLimit-Limit, -Remaining and -Reset of the request budget
(of the budget that refused it, on a 429). EVENT_BATCH_CONCURRENCY caps an account's event requests in progress (see
inflight). Health checks and the people-facing pages are not limited; webhooks from SendGrid and HubSpot count
against their sender's address.
"""

import functools
import logging
import time
from dataclasses import dataclass

from flask import Flask, Response, g, request
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError

from reengage.platform.auth import account_id, authenticate, hash_key, presented_key
from reengage.platform.errors import ApiError
from reengage.web import counters, inflight

log = logging.getLogger(__name__)

API = "/v1/"
EVENTS_ENDPOINT = "events.post_events"
# Where the counters are kept in Redis (beside the names of other counters and of jobs).
NAMESPACE = "reengage-rate"


@functools.lru_cache(maxsize=16)
def budget(limit: str) -> tuple[RateLimitItem, ...]:
    """The windows of `limit` (limits' notation: "3000 per minute", or several joined by ";"), parsed once."""
    return tuple(parse_many(limit))


def caller() -> str:
    """Whom a request counts against: its key's account, else the key (hashed), else its address."""
    key = presented_key()
    if key is None:
        return f"ip:{request.remote_addr or '-'}"
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


def check_limit(name: str, limit: str) -> tuple[RateLimitItem, ...]:
    """The windows of the setting `name`, or a refusal to start that says how to write it."""
    try:
        return budget(limit)
    except ValueError:
        raise RuntimeError(f"{name} must be in limits' notation (e.g. '3000 per minute'), not {limit!r}") from None


def check_event_limit(limit: str, largest_batch: int) -> None:
    """Refuse an events budget that a full batch could never fit in."""
    items = check_limit("EVENT_RATE_LIMIT", limit)
    if any(item.amount < largest_batch for item in items):
        raise RuntimeError(f"EVENT_RATE_LIMIT ({limit}) must allow a whole batch of {largest_batch} events")


@dataclass(frozen=True)
class Window:
    """The current window of one budget item of one caller: its counter's key and when it resets (epoch seconds)."""

    item: RateLimitItem
    key: str
    reset: int

    @classmethod
    def now(cls, item: RateLimitItem, *identifiers: str) -> "Window":
        # Windows start on the clock (each minute, hour...), so when one resets is known without asking the store.
        period = item.get_expiry()
        start = int(time.time()) // period * period
        return cls(item, "/".join((NAMESPACE, *identifiers, str(item.amount), str(period), str(start))),
                   start + period)


class Budgets:
    """The two budgets of every account, as counters in fixed windows: one round trip to Redis a budget a request
    (the events budget two: read before, spent after)."""

    def __init__(self, app: Flask):
        self.config = app.config
        store = storage_from_string(app.config["REDIS_URL"] or f"{counters.SCHEME}://")
        assert isinstance(store, Storage), store  # the synchronous storage of the scheme (redis://, local://)
        self.store = store

    def before(self) -> None:
        """Spend a request of the caller's budget, and test its events against theirs; 429 when either is spent."""
        if not request.path.startswith(API):
            return
        try:
            who = caller()
            for number, item in enumerate(budget(self.config["RATE_LIMIT"])):
                window = Window.now(item, who)
                count = self.store.incr(window.key, item.get_expiry())
                if number == 0 or count > item.amount:
                    g.rate_shown = (window, count)
                if count > item.amount:
                    self.refuse(window, self.config["RATE_LIMIT"])
            if request.endpoint == EVENTS_ENDPOINT and request.method == "POST":
                cost = events_sent()
                windows = [Window.now(item, who, "events") for item in budget(self.config["EVENT_RATE_LIMIT"])]
                for window in windows:
                    count = self.store.get(window.key)
                    if count + cost > window.item.amount:
                        g.rate_shown = (window, count)
                        self.refuse(window, f"{self.config['EVENT_RATE_LIMIT']} for events")
                g.events_to_spend = (windows, cost)
        except (RedisError, DBAPIError) as error:
            # Unlimited meanwhile: the route's own lookup answers a database outage (503), Redis is not needed.
            log.warning("could not count the request against its rate limits, let through: %s", error)
            g.pop("rate_shown", None)

    @staticmethod
    def refuse(window: Window, limit: str) -> None:
        """Answer 429 for the spent `window` of `limit`, with the wait until it resets."""
        wait = max(1, window.reset - int(time.time()))
        raise ApiError(429, "rate_limited", f"Too many requests for this account (the limit is {limit}); try again "
                       "after Retry-After seconds.", headers={"Retry-After": str(wait)})

    def after(self, response: Response) -> Response:
        """Spend the events of an answered event request; show the budget the request met."""
        spending = g.pop("events_to_spend", None)
        if spending is not None and response.status_code != 429:
            windows, cost = spending
            try:
                for window in windows:
                    self.store.incr(window.key, window.item.get_expiry(), amount=cost)
            except RedisError as error:
                log.warning("could not count the request's events against its rate limit: %s", error)
        if "rate_shown" in g:
            window, count = g.rate_shown
            response.headers["X-RateLimit-Limit"] = str(window.item.amount)
            response.headers["X-RateLimit-Remaining"] = str(max(0, window.item.amount - count))
            response.headers["X-RateLimit-Reset"] = str(window.reset)
        return response


def init_app(app: Flask) -> Budgets:
    """Limit every /v1 request to RATE_LIMIT, and posted events to EVENT_RATE_LIMIT, per account."""
    check_limit("RATE_LIMIT", app.config["RATE_LIMIT"])
    check_event_limit(app.config["EVENT_RATE_LIMIT"], app.config["MAX_EVENTS_PER_REQUEST"])
    inflight.init_app(app, EVENTS_ENDPOINT)
    budgets = Budgets(app)
    app.before_request(budgets.before)
    app.after_request(budgets.after)
    return budgets
