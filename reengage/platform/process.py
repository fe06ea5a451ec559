"""What a long-running process (a web worker, a job worker, the clock) does once it has started."""

import gc


def started() -> None:
    """Keep what the process built while starting (the app, its libraries' modules and tables, about 215,000
    objects) out of the garbage collector's full passes: those live as long as the process, and a full pass walked
    every one of them, stopping every thread of the process for 0.1-0.3 s each time. Later objects are collected as
    before. Call it once the app is built and before the process takes work."""
    gc.collect()  # what starting left behind goes first, rather than being kept for good
    gc.freeze()
