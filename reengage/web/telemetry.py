"""Telemetry of the web process: a log line and a latency sample per request, `/metrics`, error reports to Sentry."""

import hmac
import logging
import re
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from reengage.jobs import ticks
from reengage.models.clock_tick import TICK
from reengage.platform import db, logs, metrics, queue
from reengage.platform.errors import ApiError

if TYPE_CHECKING:
    from sentry_sdk._types import Event

access = logging.getLogger("reengage.access")
# A request id a caller (or a proxy) sends is kept when it is this tame; else a new one is made.
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def start() -> None:
    """Note when the request began and which id it goes by."""
    g.started = time.perf_counter()
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
    g.request_id_token = logs.request_id.set(g.request_id)


def finish(response: Response) -> Response:
    """Log the request in one line, sample its latency, and hand its id back."""
    if "started" not in g:
        return response
    seconds = time.perf_counter() - g.started
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    caller = g.get("caller")
    metrics.REQUEST_SECONDS.labels(request.method, route, str(response.status_code)).observe(seconds)
    if access.isEnabledFor(logging.INFO):  # the line's parts (the redacted path above all) cost more than the rest
        access.info("%s %s %s", request.method, logs.redact(request.full_path.rstrip("?")), response.status_code,
                    extra={"route": route, "method": request.method, "status": response.status_code,
                           "duration_ms": round(seconds * 1000, 2),
                           "account_id": caller.account_id if caller else None})
    response.headers["X-Request-ID"] = g.request_id
    return response


def forget(_exc: BaseException | None) -> None:
    """Stop tagging log lines with the request's id."""
    token = g.pop("request_id_token", None)
    if token is not None:
        logs.request_id.reset(token)


class Snapshot(Collector):
    """Series read when scraped: the clock's last tick per task, its lag, queue depth, what is reachable."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("reengage_dependency_up", "Whether a dependency answered this scrape.",
                               labels=["dependency"])
        with self.app.app_context():
            try:
                runs = ticks.latest()
                up.add_metric(["database"], 1)
            except Exception:
                runs = {}
                up.add_metric(["database"], 0)
            try:
                depth = queue.depth()
                up.add_metric(["redis"], 1)
            except Exception:
                depth = {}
                up.add_metric(["redis"], 0)
            now = db.utcnow()
        yield up
        jobs = GaugeMetricFamily("reengage_queue_jobs", "Jobs in the queue by state.", labels=["state"])
        for state, count in depth.items():
            jobs.add_metric([state], count)
        yield jobs
        due = GaugeMetricFamily("reengage_clock_due", "Due rows each clock task handed on in its last run (at most "
                                "a batch: a task at its batch size has more waiting).", labels=["task"])
        took = GaugeMetricFamily("reengage_clock_task_seconds", "How long each task's last run took.", labels=["task"])
        failed = GaugeMetricFamily("reengage_clock_task_failed", "1 when the task's last run failed.", labels=["task"])
        for name, run in sorted(runs.items()):
            if name != TICK:
                due.add_metric([name], run.handed_on)
                took.add_metric([name], run.seconds)
                failed.add_metric([name], 1 if run.error else 0)
        yield from (due, took, failed)
        if TICK in runs:
            yield GaugeMetricFamily("reengage_clock_lag_seconds", "Seconds since the last clock tick ended.",
                                    value=(now - runs[TICK].ticked_at).total_seconds())


def serve_metrics() -> Response:
    """The Prometheus text exposition, for a caller presenting METRICS_TOKEN."""
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        raise ApiError(404, "not_found", "Metrics are off: set METRICS_TOKEN and send it as a bearer token.")
    presented = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(presented.encode(), token.encode()):
        raise ApiError(401, "unauthorized", "Send METRICS_TOKEN as 'Authorization: Bearer <token>'.")
    registry = CollectorRegistry()
    if metrics.MULTIPROCESS_DIR:
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Everything())
    registry.register(Snapshot(current_app._get_current_object()))  # type: ignore[attr-defined]  # a proxy method
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


class _Everything(Collector):
    """This process's own series (one process: no multiprocess files to add up)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def init_app(app: Flask) -> None:
    """Log and time every request, and report errors to Sentry when SENTRY_DSN is set."""
    app.before_request_funcs.setdefault(None, []).insert(0, start)
    app.after_request(finish)
    app.teardown_request(forget)
    if app.config.get("SENTRY_DSN"):
        import sentry_sdk

        # No request bodies, headers, addresses (personal data is off by default) or local variables: they hold
        # contacts' data, keys and tokens.
        sentry_sdk.init(dsn=app.config["SENTRY_DSN"], max_request_body_size="never",
                        include_local_variables=False, environment=app.config.get("SENTRY_ENVIRONMENT"),
                        before_send=_scrub)


def _scrub(event: "Event", _hint: dict[str, Any]) -> "Event":
    """An error report with the tokens of secret URLs left out."""
    req: dict[str, Any] = event.get("request") or {}
    for key in ("url", "query_string"):
        if isinstance(text := req.get(key), str):
            req[key] = logs.redact(text)
    req.pop("headers", None)
    return event
