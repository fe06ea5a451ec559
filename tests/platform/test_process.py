"""A long-running process keeps what it built while starting out of the garbage collector's full passes."""

import gc
import runpy
import weakref
from pathlib import Path
from types import SimpleNamespace

import pytest

from reengage import jobs
from reengage.cli import clock as clock_command
from reengage.jobs import clock
from reengage.platform import process

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def unfrozen():
    """Whatever a test freezes is handed back to the collector afterwards (this process runs every test)."""
    gc.unfreeze()
    yield
    gc.unfreeze()


class Built:
    """An object made while starting that lives as long as the process."""


def test_what_a_started_process_built_is_left_out_of_full_collections(unfrozen):
    kept = [Built() for _ in range(1_000)]
    cycle = Built()
    cycle.itself = cycle  # garbage once dropped, which only the collector could free
    alive = weakref.ref(cycle)
    process.started()
    assert gc.get_freeze_count() >= len(kept)
    assert not any(isinstance(tracked, Built) for tracked in gc.get_objects())  # none of them is walked any more
    later = Built()
    assert any(tracked is later for tracked in gc.get_objects())  # what comes after is collected as before
    del cycle
    gc.collect()
    # A full pass left it alone. (The frozen count itself may drop meanwhile: an object other threads let go of is
    # freed by its reference count, frozen or not.)
    assert alive() is not None


def test_the_web_worker_the_job_worker_and_the_clock_each_say_they_started(app, monkeypatch, unfrozen):
    said: list[str] = []
    monkeypatch.setattr(process, "started", lambda: said.append("started"))
    # gunicorn's hook, after a web worker built the app (here one that runs no clock of its own).
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    settings["post_worker_init"](SimpleNamespace(wsgi=SimpleNamespace(config={"REDIS_URL": "redis://x",
                                                                              "CLOCK_IN_PROCESS": True})))
    assert said == ["started"]
    # A job worker builds its app on its first job.
    monkeypatch.setattr(jobs, "ScriptInfo", lambda *args, **kwargs: SimpleNamespace(load_app=lambda: app))
    jobs.worker_app.cache_clear()
    try:
        assert jobs.worker_app() is app
    finally:
        jobs.worker_app.cache_clear()
    assert said == ["started", "started"]
    # `flask clock`, before its first tick.
    monkeypatch.setattr(clock, "run", lambda *_: said.append("ticking"))
    result = app.test_cli_runner().invoke(clock_command.run_clock)
    assert result.exit_code == 0, result.output
    assert said == ["started", "started", "started", "ticking"]
