"""gunicorn settings (read by `gunicorn app:app`); each can be changed from the environment."""

import os
import re

from gunicorn.glogging import Logger

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
# Zapier and HubSpot give up after 30 s; answer (or fail) before they do.
timeout = 30
accesslog = os.environ.get("ACCESS_LOG", "-") or None

# Webhook and unsubscribe URLs carry their secret in the path: anyone who reads the log could use them.
SECRET_PATH = re.compile(r"(/v1/webhooks/[^/?\s]+/|/v1/hubspot/actions/|/u/)[^/?\s]+")


class RedactingLogger(Logger):
    """gunicorn's logger, with the tokens of webhook and unsubscribe URLs left out of the access log."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U", "f", "{referer}i"):
            if isinstance(atoms.get(name), str):
                atoms[name] = SECRET_PATH.sub(r"\1[token]", atoms[name])
        return atoms


logger_class = RedactingLogger


def post_worker_init(worker) -> None:
    """Without Redis there is no separate clock process: each web worker runs one."""
    from reengage.jobs import clock

    app = worker.wsgi
    if not app.config.get("REDIS_URL") and app.config["CLOCK_IN_PROCESS"]:
        clock.start_thread(app)
