"""Jobs: functions a worker runs, each inside an app context it builds for itself."""

import functools
import os
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, has_app_context
from flask.cli import ScriptInfo

from reengage.platform import process


def job(func: Callable[..., Any] | None = None, *, merge_lists: bool = False,
        item_seconds: Callable[[Mapping[str, Any]], float] | None = None, take: int | None = None):
    """Make `func` a job: it runs in the caller's app context, or else in the worker's own app.

    `merge_lists=True` says the job takes one list and f(a) then f(b) may run as f(a + b).
    `item_seconds(config)` is the longest one item of that list may take: the job's timeout follows from it
    (reengage.platform.queue), rather than from one figure for every job. `take=N` (with `merge_lists`) has RQ gather
    the items of every call and run the job over up to N of them at a time (reengage.platform.queue.RedisQueue).
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            if has_app_context():
                return func(*args, **kwargs)
            with worker_app().app_context():
                return func(*args, **kwargs)

        run.merge_lists = merge_lists  # type: ignore[attr-defined]
        run.item_seconds = item_seconds  # type: ignore[attr-defined]
        run.take = take  # type: ignore[attr-defined]
        return run

    return decorate(func) if func is not None else decorate


@functools.cache
def worker_app() -> Flask:
    """The app of a worker process, built on its first job (never at import), found as `flask` commands find it."""
    # By FLASK_APP, else app.py in the working directory: jobs sit below the app factory and do not import it.
    app = ScriptInfo(os.environ.get("FLASK_APP"), set_debug_flag=False).load_app()
    process.started()
    return app
