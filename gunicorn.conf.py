"""gunicorn settings (read by `gunicorn app:app`); each can be changed from the environment."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
# Zapier and HubSpot give up after 30 s; answer (or fail) before they do.
timeout = 30
accesslog = os.environ.get("ACCESS_LOG", "-") or None


def post_worker_init(worker) -> None:
    """Tune the worker's threads; without Redis, also run the clock in it."""
    import sys

    from reengage import clock

    # A thread back from a database round trip waits for the GIL up to this long while
    # another thread computes; the default 5 ms makes every query of a busy worker that slow.
    sys.setswitchinterval(float(os.environ.get("GIL_SWITCH_SECONDS", "0.0005")))

    app = worker.wsgi
    if not app.config.get("REDIS_URL") and app.config["CLOCK_IN_PROCESS"]:
        clock.start_thread(app)
