"""Hands slow work to jobs: RQ on Redis when configured, else a thread of this process."""

import json
import logging
import math
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from flask import Flask, current_app
from redis import Redis
from rq import Queue, Retry, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

log = logging.getLogger(__name__)

# Seconds between RQ's retries of a failed job; jobs are safe to run twice.
RETRY_INTERVALS = [10, 60, 300]
# What a job's timeout allows beyond the time its items may take (starting, reading, recording).
JOB_TIMEOUT_MARGIN = 60
# A job in one of these states has yet to run (again): enqueueing it once more would duplicate it.
WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
# How long a merged job (one that takes a list) waits for more items before it runs, and how many end the wait.
# Under a stream of single events a job would otherwise start for every few of them (it finds the queue nearly empty
# each time) and pay its fixed cost (claiming, loading the rules, the commit) for each few; waiting, one job takes a
# few dozen. Its items are stored already: the wait only delays what is done with them (and a process that ends
# meanwhile leaves them to the clock's sweep of unprocessed events).
MERGE_WAIT_SECONDS = 0.1
MERGE_ENOUGH = 200
# On RQ, the items of a job marked with a `take` size wait in a Redis list (one per queue and job), and one RQ job at a
# time takes up to that many of them. A take counts as scheduled for TAKE_SCHEDULED_SECONDS at most (one waiting
# longer behind other jobs may get a twin, which finds less to do).
TAKE_SCHEDULED_SECONDS = 60


class InProcessQueue:
    """Runs jobs on background threads of this process (or at once, when `inline`).

    Calls of a job marked `merge_lists` (one list argument) that pile up while such a call
    runs are merged into one call, so a busy process does one job per burst, not per request.
    Such a call also waits up to MERGE_WAIT_SECONDS for others to join it, unless MERGE_ENOUGH
    items are in already.
    """

    def __init__(self, app: Flask, inline: bool):
        self.app = app
        self.inline = inline
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Condition()
        self._merged: dict[Callable[..., Any], list[Any]] = {}
        self._draining = False

    def enqueue(self, func: Callable[..., Any], *args: Any, job_id: str | None = None) -> None:
        if self.inline:
            self._run(func, args)
        elif getattr(func, "merge_lists", False):
            with self._lock:
                self._merged.setdefault(func, []).extend(args[0])
                start = not self._draining
                self._draining = True
                if self._waiting() >= MERGE_ENOUGH:
                    self._lock.notify()
            if start:
                self._pool().submit(self._drain)
        else:
            self._pool().submit(self._run, func, args)

    def depth(self) -> dict[str, int]:
        """Jobs of this process waiting for a thread, by state."""
        waiting = self._executor._work_queue.qsize() if self._executor is not None else 0
        return {"queued": waiting + self._waiting()}

    def _waiting(self) -> int:
        return sum(len(items) for items in self._merged.values())

    def _pool(self) -> ThreadPoolExecutor:
        # Created on first use, so that a pool is never inherited across gunicorn's fork.
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="job")
        return self._executor

    def _drain(self) -> None:
        while True:
            with self._lock:
                self._lock.wait_for(lambda: self._waiting() >= MERGE_ENOUGH, timeout=MERGE_WAIT_SECONDS)
                merged, self._merged = self._merged, {}
                if not merged:
                    self._draining = False
                    return
            for func, items in merged.items():
                self._run(func, (items,))

    def _run(self, func: Callable[..., Any], args: tuple) -> None:
        # Work lost here is not lost for good: the clock hands unfinished work to a job again.
        with self.app.app_context():
            try:
                func(*args)
            except Exception:
                log.exception("job %s failed", func.__qualname__)
                if self.inline:
                    raise


class RedisQueue:
    """Enqueues jobs to RQ, run by `rq worker`.

    A call of a job marked with a `take` size (event processing: a stream of single events becomes a few jobs of
    many events, not a job each) adds its items to the job's list in Redis and schedules a `take` of them unless one
    is scheduled already; a call with a `job_id` (the clock's sweep) stays a job of its own. Other list-taking jobs
    (sends, deliveries) stay one job a call: the clock cuts them small so that several workers share them.
    """

    def __init__(self, url: str, name: str, config: Mapping[str, Any]):
        self.connection = Redis.from_url(url)
        self.queue = Queue(name, connection=self.connection)
        self.config = config

    def enqueue(self, func: Callable[..., Any], *args: Any, job_id: str | None = None,
                timeout: float | None = None) -> None:
        size = getattr(func, "take", None)
        if size and job_id is None:
            self._gather(func, args[0], size)
            return
        if job_id is not None:
            try:
                if Job.fetch(job_id, connection=self.connection).get_status() in WAITING:
                    return  # the same work is already waiting for a worker
            except NoSuchJobError:
                pass
        self.queue.enqueue(func, *args, job_id=job_id, job_timeout=timeout, retry=_retry())

    def _gather(self, func: Callable[..., Any], items: list[Any], size: int) -> None:
        if not items:
            return
        key = _merged_key(self.queue.name, func)
        pipe = self.connection.pipeline()
        pipe.rpush(key, *(json.dumps(item) for item in items))
        pipe.sadd(_merged_keys(self.queue.name), key)
        pipe.set(f"{key}:scheduled", 1, nx=True, ex=TAKE_SCHEDULED_SECONDS)
        *_, scheduled = pipe.execute()
        if scheduled:
            _enqueue_take(self.queue, func, key, size, items_timeout(func, size, self.config))

    def depth(self) -> dict[str, int]:
        """Jobs in RQ, by state: waiting (items of list-taking jobs counted one each), running, waiting to retry,
        failed for good."""
        merged = sum(self.connection.llen(key) for key in self.connection.smembers(_merged_keys(self.queue.name)))
        return {"queued": self.queue.count + merged, "started": self.queue.started_job_registry.count,
                "scheduled": self.queue.scheduled_job_registry.count, "failed": self.queue.failed_job_registry.count}


def _retry() -> Retry:
    return Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS)


def _enqueue_take(queue: Queue, func: Callable[..., Any], key: str, size: int, timeout: float | None) -> None:
    """Queue a take of `key` whose scheduling flag is set; clear the flag if that fails, so the next call queues one."""
    try:
        queue.enqueue(take, func, key, size, job_timeout=timeout, retry=_retry())
    except Exception:
        queue.connection.delete(f"{key}:scheduled")
        raise


def _merged_key(queue: str, func: Callable[..., Any]) -> str:
    return f"reengage:merged:{queue}:{func.__module__}.{func.__qualname__}"


def _merged_keys(queue: str) -> str:
    return f"reengage:merged:{queue}"


def take(func: Callable[[list[Any]], Any], key: str, size: int) -> None:
    """Run `func` over up to `size` of the items waiting in `key` (an RQ job; see RedisQueue).

    Items a run fails on go on as a job of their own, which RQ retries and at last keeps among the failed jobs: one
    item that always fails holds back its own take's items, not every later one's."""
    job = get_current_job()
    assert job is not None, "a take runs as an RQ job"
    connection = job.connection
    connection.delete(f"{key}:scheduled")  # items added from now on schedule a take of their own
    raw = cast(list[bytes], connection.lpop(key, size) or [])
    items = [json.loads(item) for item in raw]
    try:
        if items:
            func(items)
    except Exception:
        log.exception("a run of %s over %d items failed; they go on as a job of their own", func.__qualname__,
                      len(items))
        Queue(job.origin, connection=connection).enqueue(func, items, job_timeout=job.timeout, retry=_retry())
    except BaseException:  # the worker is stopping: the items wait at the head for the next take
        if raw:
            connection.lpush(key, *reversed(raw))
        raise
    if connection.llen(key) and connection.set(f"{key}:scheduled", 1, nx=True, ex=TAKE_SCHEDULED_SECONDS):
        _enqueue_take(Queue(job.origin, connection=connection), func, key, size, job.timeout)  # more was waiting


def init_app(app: Flask) -> None:
    """Pick the queue for this app's settings."""
    if app.config.get("REDIS_URL"):
        app.extensions["queue"] = RedisQueue(app.config["REDIS_URL"], app.config["RQ_QUEUE"], app.config)
    else:
        app.extensions["queue"] = InProcessQueue(app, inline=app.config["JOBS_INLINE"])


def enqueue(func: Callable[..., Any], *args: Any, job_id: str | None = None) -> None:
    """Run `func(*args)` as a job; with `job_id`, not while a job of that id still waits to run."""
    queue = current_app.extensions["queue"]
    if isinstance(queue, RedisQueue):
        queue.enqueue(func, *args, job_id=job_id, timeout=timeout_of(func, args, current_app.config))
    else:
        queue.enqueue(func, *args, job_id=job_id)


def timeout_of(func: Callable[..., Any], args: tuple, config: Mapping[str, Any]) -> int | None:
    """Seconds a job called with `args` may run (see items_timeout); None for a call not given a list."""
    if not args or not isinstance(args[0], list):
        return None
    return items_timeout(func, len(args[0]), config)


def items_timeout(func: Callable[..., Any], count: int, config: Mapping[str, Any]) -> int | None:
    """Seconds a job over `count` items may run: what they may take (the job's `item_seconds`) plus a margin; None
    for jobs that do not say (RQ's default)."""
    item_seconds = getattr(func, "item_seconds", None)
    if item_seconds is None:
        return None
    return math.ceil(JOB_TIMEOUT_MARGIN + count * item_seconds(config))


def depth() -> dict[str, int]:
    """How many jobs wait, by state (raises RedisError when Redis is down)."""
    return current_app.extensions["queue"].depth()


def redis_connection() -> Redis | None:
    """The Redis connection of the current app, when it has one."""
    queue = current_app.extensions["queue"]
    return queue.connection if isinstance(queue, RedisQueue) else None
