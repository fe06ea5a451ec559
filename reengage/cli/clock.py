"""`flask clock`: the clock in the foreground."""

import threading

import click
from flask import current_app

from reengage.jobs import clock


@click.command("clock")
def run_clock() -> None:
    """Run the clock in the foreground until interrupted."""
    stop = threading.Event()
    try:
        # The clock runs in its own thread, so it takes the app itself rather than the proxy.
        clock.run(current_app._get_current_object(), stop)  # type: ignore[attr-defined]  # a proxy method
    except KeyboardInterrupt:
        stop.set()
