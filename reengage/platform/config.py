"""Settings: defaults, then the environment, then explicit overrides."""

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from reengage.platform import durations

# The embedded default keeps its files in the working folder, so one command starts a server.
EMBEDDED_DATABASE_FILE = "reengage.db"
EMBEDDED_SECRET_FILE = ".reengage-secret"

DEFAULTS: dict[str, Any] = {
    "REDIS_URL": None,
    "LOG_LEVEL": "INFO",
    # `json` (one object a line, for log collectors) or `text`.
    "LOG_FORMAT": "json",
    # The bearer token `/metrics` asks for; unset, `/metrics` is off.
    "METRICS_TOKEN": None,
    # Where errors are reported (Sentry's DSN); unset, they are only logged.
    "SENTRY_DSN": None,
    "SENTRY_ENVIRONMENT": None,
    # A batch of 1,000 events with rich properties stays well under this.
    "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
    "MAX_EVENTS_PER_REQUEST": 1000,
    # Run jobs at once in the caller's thread (tests) rather than on a background thread.
    "JOBS_INLINE": False,
    # Run the clock inside each web worker when there is no Redis (the embedded default).
    "CLOCK_IN_PROCESS": True,
    "CLOCK_INTERVAL_SECONDS": 5.0,
    # Readiness fails when no clock has ticked for this many intervals (and at least CLOCK_STALE_MIN_SECONDS).
    "CLOCK_STALE_INTERVALS": 6,
    "CLOCK_STALE_MIN_SECONDS": 30.0,
    # Events not processed this long after arrival are handed to a job again by the clock.
    "EVENT_REPROCESS_AFTER_SECONDS": 60,
    "RQ_QUEUE": "default",
    # How long a process trusts a key it has checked; a revoked key stops working within this.
    "API_KEY_CACHE_SECONDS": 5.0,
    # Where people reach this server: unsubscribe links in emails point here. Unset, the address gunicorn serves
    # on (HOST and PORT, as gunicorn.conf.py reads them).
    "PUBLIC_URL": None,
    # Messages handed to a job this long ago and still queued are handed to a job again.
    "MESSAGE_REQUEUE_AFTER_SECONDS": 300,
    # A message still `sending` this long after its send started was cut off mid-send (a send takes at most
    # CONNECTOR_TIMEOUT_SECONDS per call); what happens then is the channel's `interrupted` policy.
    "MESSAGE_SENDING_TIMEOUT_SECONDS": 120,
    # How long after an interrupted email's send started its provider's events may still show it went; with none
    # by then it is sent again.
    "MESSAGE_CONFIRM_WINDOW_SECONDS": 900,
    # How often a message whose provider failed for a passing reason is tried in all, and the first pause
    # before it is tried again (doubling each time after).
    "MESSAGE_MAX_ATTEMPTS": 5,
    "MESSAGE_RETRY_AFTER_SECONDS": 60,
    # Where the SendGrid and HubSpot clients send their calls; None is the services themselves.
    "SENDGRID_API_HOST": None,
    "HUBSPOT_API_HOST": None,
    # The longest a HubSpot record waits on our custom action (`hs_expiration_duration`). HubSpot holds a BLOCKed
    # record one week when no duration is given and documents no maximum we could find: kept configurable.
    "HUBSPOT_BLOCK_MAX": "P365D",
    # Where Salesforce logins (the OAuth token endpoint) go; None is login.salesforce.com, or test.salesforce.com
    # for a sandbox connection. The instance the token answers with is then called.
    "SALESFORCE_LOGIN_URL": None,
    # Where Atomic's Company Search is called; None is Atomic's production (or sandbox) API.
    "ATOMIC_API_URL": None,
    # How long a call to an outside service may take before it counts as a passing failure.
    "CONNECTOR_TIMEOUT_SECONDS": 10.0,
    # Signed webhooks older than this are refused, so a captured request cannot be replayed later.
    "WEBHOOK_MAX_AGE_SECONDS": 300,
    # REST hook targets must use https unless this is False (None: required except in the embedded default).
    "HOOK_REQUIRE_HTTPS": None,
    # Private or reserved networks a hook may still post to (CIDRs, comma separated in the environment);
    # every other non-public address is refused, so a hook cannot be aimed at internal services.
    "HOOK_ALLOWED_NETWORKS": (),
    # How often a delivery is tried in all, and when one handed to a job that never finished goes again.
    "HOOK_MAX_ATTEMPTS": 8,
    "HOOK_REQUEUE_AFTER_SECONDS": 300,
    # The first pause before a failed or cut-off delivery is tried again (doubling each time after, at most an hour).
    "HOOK_RETRY_AFTER_SECONDS": 30,
    # A delivery still `sending` this long after its POST started was cut off: the attempt is recorded as
    # interrupted and it goes again after the usual pause, within HOOK_MAX_ATTEMPTS.
    "HOOK_SENDING_TIMEOUT_SECONDS": 120,
    # Requests per account to the whole API (limits' notation), counted in Redis when REDIS_URL is set; send
    # high volumes of events in batches of up to 1,000.
    "RATE_LIMIT": "3000 per minute",
    # The dashboard's session cookie: a signed-in browser is asked for the key again after 12 hours, the
    # cookie never reaches scripts or other sites' requests, and (see load) only travels over https when
    # PUBLIC_URL is https. These replace Flask's own defaults (31 days, no SameSite).
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Template renders refused as over the render budget (template bombs), per account (limits' notation); once
    # spent, the account's requests that would render a template are answered 429 until the window moves on.
    "TEMPLATE_REFUSAL_LIMIT": "10 per minute",
    # Failed dashboard sign-ins per client address (limits' notation); more wait for Retry-After.
    "DASHBOARD_SIGN_IN_LIMIT": "10 per 15 minutes",
    # Events per account, a batch of N counting N, so one account's batches cannot starve the others; it must
    # allow a whole batch (MAX_EVENTS_PER_REQUEST).
    "EVENT_RATE_LIMIT": "60000 per minute",
    # Event requests of one account in progress at once in one web process; more are answered 429 at once.
    "EVENT_BATCH_CONCURRENCY": 1,
    # Sends one job has in flight at once through each provider ("sendgrid=50,hubspot=1" in the environment);
    # a provider not named sends one at a time. SendGrid's mail send publishes no per-second limit (a 429 is
    # retried after its reset), so a job's whole chunk of emails goes at once.
    "SEND_CONCURRENCY": {"sendgrid": 50, "hubspot": 1},
}

# The recovery delays and attempt limits, each settable from the environment (whole seconds, counts).
RECOVERY_SETTINGS = ("EVENT_REPROCESS_AFTER_SECONDS", "MESSAGE_REQUEUE_AFTER_SECONDS",
                     "MESSAGE_SENDING_TIMEOUT_SECONDS", "MESSAGE_CONFIRM_WINDOW_SECONDS", "MESSAGE_MAX_ATTEMPTS",
                     "MESSAGE_RETRY_AFTER_SECONDS", "HOOK_MAX_ATTEMPTS", "HOOK_REQUEUE_AFTER_SECONDS",
                     "HOOK_RETRY_AFTER_SECONDS", "HOOK_SENDING_TIMEOUT_SECONDS")
ENV_VARS = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "LOG_LEVEL", "LOG_FORMAT", "METRICS_TOKEN", "SENTRY_DSN",
            "SENTRY_ENVIRONMENT", "MAX_CONTENT_LENGTH", "API_KEY_CACHE_SECONDS",
            "PUBLIC_URL", "SENDGRID_API_HOST", "HUBSPOT_API_HOST", "SALESFORCE_LOGIN_URL", "ATOMIC_API_URL",
            "CONNECTOR_TIMEOUT_SECONDS", "HOOK_REQUIRE_HTTPS", "HOOK_ALLOWED_NETWORKS", "RATE_LIMIT",
            "EVENT_RATE_LIMIT", "CLOCK_INTERVAL_SECONDS", "CLOCK_STALE_INTERVALS", "CLOCK_STALE_MIN_SECONDS",
            "EVENT_BATCH_CONCURRENCY", "HUBSPOT_BLOCK_MAX", "RQ_QUEUE", "SEND_CONCURRENCY", "TEMPLATE_REFUSAL_LIMIT",
            *RECOVERY_SETTINGS)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
NUMBER_SETTINGS = {"MAX_CONTENT_LENGTH": int, "API_KEY_CACHE_SECONDS": float, "CONNECTOR_TIMEOUT_SECONDS": float,
                   "CLOCK_INTERVAL_SECONDS": float, "CLOCK_STALE_INTERVALS": float, "CLOCK_STALE_MIN_SECONDS": float,
                   "EVENT_BATCH_CONCURRENCY": int, **{name: int for name in RECOVERY_SETTINGS}}


def load(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the settings for one application instance."""
    settings = dict(DEFAULTS)
    for name in ENV_VARS:
        value = os.environ.get(name)
        if value:
            try:
                settings[name] = NUMBER_SETTINGS.get(name, str)(value)
            except ValueError:
                raise RuntimeError(f"{name} must be a number, not {value!r}") from None
    settings.update(overrides or {})
    for name in RECOVERY_SETTINGS:
        if settings[name] < (1 if name.endswith("ATTEMPTS") else 0):
            raise RuntimeError(f"{name} must not be below {1 if name.endswith('ATTEMPTS') else 0}")
    if str(settings["LOG_LEVEL"]).upper() not in LOG_LEVELS:
        raise RuntimeError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {settings['LOG_LEVEL']!r}")
    settings["LOG_LEVEL"] = str(settings["LOG_LEVEL"]).upper()
    if str(settings["LOG_FORMAT"]).lower() not in ("json", "text"):
        raise RuntimeError(f"LOG_FORMAT must be json or text, not {settings['LOG_FORMAT']!r}")
    settings["LOG_FORMAT"] = str(settings["LOG_FORMAT"]).lower()
    try:
        durations.parse(str(settings["HUBSPOT_BLOCK_MAX"]))
    except ValueError as error:
        raise RuntimeError(f"HUBSPOT_BLOCK_MAX: {error}") from None
    settings["EMBEDDED"] = not settings.get("DATABASE_URL")
    settings["PUBLIC_URL"] = settings["PUBLIC_URL"] or serving_url()
    settings.setdefault("SESSION_COOKIE_SECURE", str(settings["PUBLIC_URL"]).startswith("https://"))
    _hook_settings(settings)
    settings["SEND_CONCURRENCY"] = send_concurrency(settings["SEND_CONCURRENCY"])
    if settings["EMBEDDED"]:
        settings["DATABASE_URL"] = f"sqlite:///{Path.cwd() / EMBEDDED_DATABASE_FILE}"
    settings["DATABASE_URL"] = database_url(settings["DATABASE_URL"])
    if not settings.get("SECRET_KEY"):
        settings["SECRET_KEY"] = _embedded_secret(settings["EMBEDDED"])
    _secret_keys(settings)
    return settings


def _secret_keys(settings: dict[str, Any]) -> None:
    """SECRET_KEY may list keys, newest first ("new,old"): the first seals and signs, all of them open and verify."""
    given = settings["SECRET_KEY"]
    keys = [key.strip() for key in (given.split(",") if isinstance(given, str) else given) if key.strip()]
    if not keys:
        raise RuntimeError("SECRET_KEY must hold at least one key")
    settings["SECRET_KEY"] = keys[0]
    # Flask signs the dashboard's session cookie with SECRET_KEY and accepts these too.
    settings["SECRET_KEY_FALLBACKS"] = keys[1:]


def _hook_settings(settings: dict[str, Any]) -> None:
    """Read the hook settings given as text (from the environment) and check the allow-list."""
    from connectors.webhook import networks  # the connector owns what an allowed network is

    required = settings["HOOK_REQUIRE_HTTPS"]
    if isinstance(required, str):
        if required.lower() not in ("true", "false", "1", "0"):
            raise RuntimeError(f"HOOK_REQUIRE_HTTPS must be true or false, not {required!r}")
        required = required.lower() in ("true", "1")
    settings["HOOK_REQUIRE_HTTPS"] = not settings["EMBEDDED"] if required is None else bool(required)
    allowed = settings["HOOK_ALLOWED_NETWORKS"]
    if isinstance(allowed, str):
        allowed = allowed.split(",")
    try:
        networks(allowed)
    except ValueError as error:
        raise RuntimeError(f"HOOK_ALLOWED_NETWORKS: {error}") from None
    settings["HOOK_ALLOWED_NETWORKS"] = tuple(entry.strip() for entry in allowed if entry.strip())


def send_concurrency(given: str | dict[str, int]) -> dict[str, int]:
    """Sends in flight at once per provider, from "provider=count,..." (or a mapping); each at least 1."""
    pairs = given.items() if isinstance(given, dict) else (
        entry.partition("=")[::2] for entry in given.split(",") if entry.strip())
    limits = {}
    for provider, count in pairs:
        try:
            limits[str(provider).strip()] = int(count)
        except ValueError:
            raise RuntimeError(f"SEND_CONCURRENCY: {provider!s}={count!s} needs a whole number of sends") from None
        if limits[str(provider).strip()] < 1 or not str(provider).strip():
            raise RuntimeError(f"SEND_CONCURRENCY: {provider!s}={count!s} needs a provider and at least 1 send")
    return limits


def serving_url() -> str:
    """The address gunicorn serves on from HOST and PORT (a wildcard host reached as localhost)."""
    host = os.environ.get("HOST") or "localhost"
    host = "localhost" if host in ("0.0.0.0", "127.0.0.1", "::", "[::]") else host
    return f"http://{host}:{os.environ.get('PORT') or '8000'}"


def database_url(url: str) -> str:
    """`url` with the psycopg 3 driver named, as hosts hand out `postgres://` URLs."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme):]
    return url


def _embedded_secret(embedded: bool) -> str:
    """Create (once) and read the secret of the embedded default; production must set one."""
    if not embedded:
        raise RuntimeError("SECRET_KEY must be set when DATABASE_URL is set")
    path = Path.cwd() / EMBEDDED_SECRET_FILE
    if not path.exists():
        # Written aside and linked into place, so concurrent workers all read one whole secret.
        draft = path.with_name(f"{path.name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
