"""The console's browser fixtures: the dashboard's headless Chromium, and the app served with its clock running."""

import threading

import pytest
from werkzeug.serving import make_server

from reengage.jobs import clock
from tests.results.test_dashboard import browser  # noqa: F401  (the same headless Chromium)


@pytest.fixture
def served(app):
    """The app over HTTP on a free port, with the clock ticking every half second as the embedded server's does."""
    app.config["CLOCK_INTERVAL_SECONDS"] = 0.5
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop = clock.start_thread(app)
    yield f"http://127.0.0.1:{server.server_port}"
    stop.set()
    for thread in threading.enumerate():
        if thread.name == "clock":
            thread.join(timeout=30)  # a tick under way finishes before the tables are emptied
    server.shutdown()
