"""The Reengage web application: `create_app()` builds it; `app` is what gunicorn serves."""

import logging
from pathlib import Path
from typing import Any

from flask import Flask

from reengage import cli, hooks
from reengage.intake import ingest
from reengage.jobs import crm
from reengage.jobs.events import process_events
from reengage.links.provider import Provider
from reengage.platform import auth, config, db, errors, fields, inputs, logs, queue
from reengage.providers import registry
from reengage.web import api, console, ratelimit, render_limit, telemetry
from reengage.web.application import Application
from reengage.web.routes import PAGES, atomic, blueprints, dashboard, events, health, rules
from triggers import TRIGGERS, polling

MIGRATE_LOCK = ".reengage-migrate.lock"


def create_app(overrides: dict[str, Any] | None = None, providers: dict[str, Provider] | None = None) -> Flask:
    """Build an app from the environment, with `overrides` taking precedence, connecting to `providers` (all)."""
    app = Application(__name__)
    # Path ids are bounded before any route is added, so no lookup can overflow a BIGINT.
    app.url_map.converters["int"] = fields.Int64Converter
    inputs.init_app(app)
    app.config.from_mapping(config.load(overrides))
    logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    # The SDKs' debug loggers print request headers and response bodies, credentials included.
    quiet = max(logging.INFO, logging.getLevelName(app.config["LOG_LEVEL"]))
    for name in ("hubspot", "python_http_client", "urllib3"):
        logging.getLogger(name).setLevel(quiet)
    # Migrating an up-to-date database on every start is routine, not news.
    logging.getLogger("alembic").setLevel(logging.WARNING)

    if app.config["EMBEDDED"]:
        db.upgrade_embedded(app.config["DATABASE_URL"], Path.cwd() / MIGRATE_LOCK)
    db.init_app(app)
    queue.init_app(app)
    ingest.init_app(app, process=process_events)
    # A REST hook delivers an item exactly as its trigger's poll shows it: as it was when published.
    hooks.init_app(app, hooks.Renderer(
        items=lambda event, account_id, ids: polling.by_ids(TRIGGERS[event], account_id, ids),
        matches=lambda event, item, filters: polling.matches(TRIGGERS[event], item, filters),
        keep=lambda event, account_id, items, at: polling.store(TRIGGERS[event], account_id, items, at)))
    auth.init_app(app)
    render_limit.init_app(app)
    ratelimit.init_app(app)
    connected = registry.init_app(app, providers)
    crm.init_app(app)
    rest_api = api.init_app(app, blueprints(connected))
    dashboard.init_app(app)
    health.init_app(app)
    for blueprint in (*PAGES, console.blp):
        app.register_blueprint(blueprint)
    events.register_schemas(rest_api.spec)
    rules.register_schemas(rest_api.spec)
    atomic.register_schemas(rest_api.spec)
    errors.init_app(app)
    telemetry.init_app(app)
    cli.init_app(app)
    return app


def __getattr__(name: str) -> Flask:
    # `app` is built on first use, so importing create_app (tests, workers) has no side effects.
    if name == "app":
        globals()["app"] = create_app()
        return globals()["app"]
    raise AttributeError(name)
