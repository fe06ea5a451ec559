"""Job timeouts follow from the work a job holds, not RQ's one default for every job."""

import uuid

from redis import Redis
from rq import Queue

from app import create_app
from reengage.jobs.events import process_events
from reengage.jobs.hooks import deliver_hooks
from reengage.jobs.messages import send_messages
from reengage.platform import queue
from tests.support import settings


def test_send_and_delivery_jobs_may_run_as_long_as_their_items_may_take(database_url, redis_url):
    name = f"test-{uuid.uuid4().hex[:8]}"
    app = create_app(settings(database_url, REDIS_URL=redis_url, RQ_QUEUE=name, JOBS_INLINE=False,
                              CONNECTOR_TIMEOUT_SECONDS=4.0))
    connection = Redis.from_url(redis_url)
    try:
        with app.app_context():
            queue.enqueue(send_messages, list(range(1, 51)))
            queue.enqueue(deliver_hooks, list(range(1, 21)))
            queue.enqueue(process_events, [1, 2, 3])
        jobs = {job.func_name.rsplit(".", 1)[1]: job for job in Queue(name, connection=connection).jobs}
        # 50 messages of up to two 4 s calls each (a HubSpot task), 20 POSTs of up to 4 s, each with a margin.
        assert jobs["send_messages"].timeout == 60 + 50 * (2 * 4 + 2)
        assert jobs["deliver_hooks"].timeout == 60 + 20 * (4 + 2)
        # Events wait in a list that a take runs over; processing says nothing of its items' time.
        assert jobs["take"].args[0] is process_events and jobs["take"].timeout == Queue.DEFAULT_TIMEOUT
    finally:
        Queue(name, connection=connection).empty()
        connection.delete(*connection.keys(f"reengage:merged:{name}*"))
