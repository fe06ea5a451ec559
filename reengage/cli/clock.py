"""`flask clock`: the clock in the foreground."""

import signal
import threading

import click
from flask import current_app

from reengage.jobs import clock
from reengage.platform import process


@click.command("clock")
def run_clock() -> None:
    """Run the clock in the foreground until interrupted (Ctrl+C) or told to stop (SIGTERM)."""
    process.started()
    stop = threading.Event()
    # SIGTERM is how process managers and containers stop a process; as a container's first process the clock
    # would otherwise ignore it and be killed once the grace period ran out.
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        # The clock runs in its own thread, so it takes the app itself rather than the proxy.
        clock.run(current_app._get_current_object(), stop)  # type: ignore[attr-defined]  # a proxy method
    except KeyboardInterrupt:
        stop.set()
    finally:
        signal.signal(signal.SIGTERM, previous)
