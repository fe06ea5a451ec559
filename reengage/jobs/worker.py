"""The job worker: RQ's SimpleWorker, started again with backoff whenever Redis is away.

`rq worker` exits when Redis is unreachable at start or drops in some states; this one waits for Redis and
carries on, so a Redis restart needs no supervisor. Run it as `python -m reengage.jobs.worker [queue ...]`.
"""

import logging
import os
import signal
import sys
import time
from collections.abc import Callable

from redis import Redis
from redis.exceptions import RedisError
from rq.worker import SimpleWorker

from reengage.platform import logs

log = logging.getLogger(__name__)

# Seconds between attempts to reach Redis: doubled each time, up to the maximum.
FIRST_DELAY, MAX_DELAY = 1.0, 30.0


def run(url: str, queues: list[str], burst: bool = False, sleep: Callable[[float], None] = time.sleep) -> None:
    """Work `queues` until told to stop (or, with `burst`, until they are empty), surviving Redis outages."""
    delay = FIRST_DELAY
    while True:
        # A worker that works jobs without forking: each job would import the application anew otherwise.
        worker = None
        try:
            connection = Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)
            connection.ping()
            delay = FIRST_DELAY
            worker = SimpleWorker(queues, connection=connection)
            worker.work(with_scheduler=True, burst=burst)
            problem = "the worker stopped"
        except RedisError as error:
            problem = f"Redis is unreachable ({error})"
        if burst or (worker is not None and worker._shutdown_requested_date is not None):  # told to stop
            return
        # RQ's handlers stay installed after work(): while waiting, a stop signal should just stop.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        log.warning("%s; starting the worker again in %.0f s", problem, delay)
        sleep(delay)
        delay = min(delay * 2, MAX_DELAY)


def main(argv: list[str]) -> None:
    """Entry point: queues from the arguments (default `RQ_QUEUE` or `default`), Redis from `REDIS_URL`."""
    logs.configure(os.environ.get("LOG_LEVEL", "INFO").upper(), os.environ.get("LOG_FORMAT", "json").lower())
    url = os.environ.get("REDIS_URL")
    if not url:
        sys.exit("REDIS_URL must be set: without Redis, jobs run inside the web process and no worker is needed")
    burst = "--burst" in argv
    queues = [name for name in argv if name != "--burst"] or [os.environ.get("RQ_QUEUE", "default")]
    run(url, queues, burst=burst)


if __name__ == "__main__":
    main(sys.argv[1:])
