"""gunicorn settings (read by `gunicorn app:app`); each can be changed from the environment."""

import os

from gunicorn.glogging import Logger

from reengage.platform import busy, logs, process

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
# Chunks of bulk work (parts of large event batches, chunks of event processing) the web processes run at once;
# the rest wait their turn, so single events and other light requests keep the remaining cores.
BULK_CONCURRENCY = int(os.environ.get("BULK_CONCURRENCY") or max(1, (os.cpu_count() or 2) // 2))
# Zapier and HubSpot give up after 30 s; answer (or fail) before they do.
timeout = 30
# The application logs every request itself (with its id, account and duration); gunicorn's own access log is
# there for those who want its format too.
accesslog = os.environ.get("ACCESS_LOG") or None
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json").lower()
if LOG_FORMAT == "json":
    # gunicorn's own messages as JSON too; the root logger is left to the application (reengage.platform.logs),
    # and gunicorn's access log, when asked for, keeps its own format.
    logconfig_dict = {
        "version": 1, "disable_existing_loggers": False,
        "root": {"level": "INFO", "handlers": []},
        "formatters": {"json": {"()": "reengage.platform.logs.JsonFormatter"}},
        "handlers": {"error_console": {"class": "logging.StreamHandler", "formatter": "json",
                                       "stream": "ext://sys.stderr"}},
        "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False}},
    }


class RedactingLogger(Logger):
    """gunicorn's logger, with the tokens of webhook and unsubscribe URLs left out of the access log."""

    @property
    def access_log_enabled(self) -> bool:
        """Whether gunicorn writes its access log: when asked for (ACCESS_LOG, a logging configuration of one's own,
        syslog). gunicorn also counts the JSON configuration above as asking, and would then build every request's
        line for a logger that writes nowhere: about a tenth of the time of a request as light as /livez."""
        cfg = self.cfg
        return bool(cfg.accesslog or cfg.logconfig or cfg.logconfig_json
                    or (cfg.syslog and not cfg.disable_redirect_access_to_syslog))

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U", "f", "{referer}i"):
            if isinstance(atoms.get(name), str):
                atoms[name] = logs.redact(atoms[name])
        return atoms


logger_class = RedactingLogger


def on_starting(server) -> None:
    """Create the folder where worker processes leave their metrics (PROMETHEUS_MULTIPROC_DIR), if asked for one,
    and the memory where they count their light requests in progress (heavy work gives way to those of every one)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
    busy.share(BULK_CONCURRENCY)


def child_exit(server, worker) -> None:
    """A worker that ended has nothing in progress any more."""
    busy.forget(worker.pid)


def post_worker_init(worker) -> None:
    """A worker has built the app: what it built stays out of the garbage collector's full passes. Without Redis
    there is no separate clock process: each web worker runs one."""
    from reengage.jobs import clock

    process.started()
    app = worker.wsgi
    if not app.config.get("REDIS_URL") and app.config["CLOCK_IN_PROCESS"]:
        clock.start_thread(app)
