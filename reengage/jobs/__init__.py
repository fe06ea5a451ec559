"""Jobs: functions a worker runs, each inside an app context it builds for itself."""

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, has_app_context


def job(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run `func` in the caller's app context, or in the worker's own app when there is none."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            return func(*args, **kwargs)
        with worker_app().app_context():
            return func(*args, **kwargs)

    return run


@functools.cache
def worker_app() -> Flask:
    """The app of a worker process, built on its first job (never at import)."""
    from app import create_app

    return create_app()
