"""Workers killed with kill -9 mid-run and slow partners, against real PostgreSQL, Redis and RQ workers (short form).

bench/chaos.py runs the long form (2,000+ emails, 4 s and 9.5 s answers) and prints its figures.
"""

import uuid

import pytest

from tests.support import chaos


def test_killed_workers_and_slow_partners_lose_repeat_or_misrecord_nothing(app, database_url, redis_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("runs against PostgreSQL (set DATABASE_URL)")
    plan = chaos.Plan(enrollments=50, hooked_every=10, refuse_every=5, drop_every=10, slow_every=20, slow_seconds=0.6,
                      answer_seconds=0.1, hook_seconds=0.5, connector_timeout=1.0, workers=2, kills=2,
                      settle_seconds=50,
                      recovery={"MESSAGE_REQUEUE_AFTER_SECONDS": 2, "MESSAGE_SENDING_TIMEOUT_SECONDS": 3,
                                "MESSAGE_CONFIRM_WINDOW_SECONDS": 6, "HOOK_REQUEUE_AFTER_SECONDS": 2,
                                "HOOK_SENDING_TIMEOUT_SECONDS": 3, "HOOK_RETRY_AFTER_SECONDS": 1,
                                "EVENT_REPROCESS_AFTER_SECONDS": 2, "MESSAGE_RETRY_AFTER_SECONDS": 1})
    figures = chaos.run(database_url, redis_url, plan, queue=f"chaos-{uuid.uuid4().hex[:8]}")
    print(chaos.report(figures))
    assert {name: figures[name] for name in chaos.WRONG} == dict.fromkeys(chaos.WRONG, 0), chaos.report(figures)
    assert figures["kills"] == 2 + 2 and figures["emails"] == 100 and figures["deliveries"] == 5
    assert figures["most_posts_per_delivery"] == 2  # the POST cut off by the last kill went again, once
    # Every email went once, or SendGrid's events say it was dropped, or it never left.
    assert figures["went"] + figures["dropped"] + figures["failed"] == figures["emails"]
    assert figures["dropped"] == 5
