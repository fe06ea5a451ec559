"""A run in production shape with workers killed midway: real RQ worker processes (kill -9 at random), the clock
and the SendGrid Event Webhook served by this process, a slow SendGrid that counts every POST by our message id
and posts its events back, and a slow REST hook target. `run` seeds the work, waits until it has all settled and
answers what became of each message and delivery against what the partners saw (tests/jobs/test_chaos.py runs a
short form, bench/chaos.py the long one).

Each enrollment has two emails due two seconds apart (the second answered 429 once for some, so it retries while
its sibling finishes), some a webhook message posted to a REST hook; some addresses are dropped by SendGrid.
"""

import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, update
from werkzeug.serving import WSGIRequestHandler, make_server

from app import create_app
from reengage import accounts
from reengage.jobs import clock
from reengage.models import Contact, Enrollment, Event, HookDelivery, Message
from reengage.platform import db
from reengage.platform.timing import WEEKDAYS
from reengage.sequencing import flows
from tests.fakes.eventful import EventfulSendGrid, SlowReceiver
from tests.support.connections import SENDGRID

ROOT = Path(__file__).resolve().parents[2]
# How far ahead webhook messages are held back until the run releases them (`release_webhooks`).
HELD = timedelta(days=1)
FINAL = ("sent", "delivered", "opened", "clicked", "dropped", "bounced", "failed", "skipped")


@dataclass
class Plan:
    """How big and how rough a run is."""

    enrollments: int = 1000  # two emails each
    hooked_every: int = 10  # every n-th enrollment also has a webhook message, posted to a REST hook
    refuse_every: int = 7  # every n-th enrollment's second email is answered 429 once
    drop_every: int = 50  # every n-th enrollment's first email is dropped by SendGrid
    slow_every: int = 0  # every n-th message is answered after `slow_seconds` (0: none)
    slow_seconds: float = 4.0
    answer_seconds: float = 0.05  # how long SendGrid takes to answer the others
    hook_seconds: float = 9.5  # how long the REST hook target takes to answer
    connector_timeout: float = 10.0
    workers: int = 2
    kills: int = 8  # spread evenly over the sends
    # Then every worker is killed at once while a REST hook POST waits for its answer: the webhook messages are held
    # back until the kills during the sends are done, so their POSTs come after them however fast the sends go.
    hook_kill: bool = True
    settle_seconds: int = 600  # how long to wait for everything to settle
    recovery: dict[str, int] = field(default_factory=lambda: {
        "MESSAGE_REQUEUE_AFTER_SECONDS": 5, "MESSAGE_SENDING_TIMEOUT_SECONDS": 15, "MESSAGE_CONFIRM_WINDOW_SECONDS": 30,
        "HOOK_REQUEUE_AFTER_SECONDS": 5, "HOOK_SENDING_TIMEOUT_SECONDS": 15, "HOOK_RETRY_AFTER_SECONDS": 5,
        "EVENT_REPROCESS_AFTER_SECONDS": 3})


def environment(database_url: str, redis_url: str, queue: str, sendgrid: str, plan: Plan) -> dict[str, str]:
    """The settings the workers and this process share."""
    return {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "RQ_QUEUE": queue, "SECRET_KEY": "chaos-secret",
            "SENDGRID_API_HOST": sendgrid, "CONNECTOR_TIMEOUT_SECONDS": str(plan.connector_timeout),
            "HOOK_REQUIRE_HTTPS": "false", "HOOK_ALLOWED_NETWORKS": "127.0.0.0/8", "LOG_LEVEL": "WARNING",
            **{name: str(value) for name, value in plan.recovery.items()}}


def seed(app, plan: Plan, server_url: str, hook_target: str) -> tuple[int, str]:
    """An account connected to SendGrid, a hook on message.due, and the enrollments; (account id, webhook path)."""
    with app.app_context(), db.transaction() as session:
        account, key = accounts.create(session, "chaos")
        account.settings = {"send_window": {"start": "00:00", "end": "24:00", "days": list(WEEKDAYS)},
                            "skip_holidays": False, "frequency_cap": {"messages": 100, "per": "PT1H"}}
        flow = flows.create(account.id, flows.check(flows.from_template("sales", {"holdout_percent": 0})))
        account_id, flow_id = account.id, flow.id
    client, headers = app.test_client(), {"Authorization": f"Bearer {key}"}
    connected = client.put("/v1/connections/sendgrid", json=SENDGRID, headers=headers)
    assert connected.status_code == 200, connected.json
    hooked = client.post("/v1/hooks", json={"target_url": hook_target, "event": "message.due"}, headers=headers)
    assert hooked.status_code == 201, hooked.json
    with app.app_context(), db.transaction() as session:
        now = db.utcnow()
        connection = session.connection()
        contacts = list(connection.execute(insert(Contact).returning(Contact.id), [
            {"account_id": account_id, "external_id": f"c{n}", "email": f"c{n}@example.com",
             "phone": f"+1415555{n:04d}", "properties": {}, "consent": {}, "created_at": now, "updated_at": now}
            for n in range(plan.enrollments)]).scalars())
        enrolled = list(connection.execute(insert(Enrollment).returning(Enrollment.id), [
            {"account_id": account_id, "flow_id": flow_id, "contact_id": contact, "status": "active",
             "holdout": False, "variants": {}, "source": "chaos", "started_at": now}
            for contact in contacts]).scalars())
        rows = []
        for n, (enrollment, contact) in enumerate(zip(enrolled, contacts, strict=True)):
            steps = [("1.pick-up", "email", 0), ("2.how-others-decided", "email", 2)]
            if plan.hooked_every and n % plan.hooked_every == 0:
                steps.append(("1.text-nudge", "webhook", 0))
            rows += [{"account_id": account_id, "enrollment_id": enrollment, "flow_id": flow_id, "contact_id": contact,
                      "step": step, "phase": int(step[0]), "channel": channel, "status": "scheduled",
                      "planned_at": now + timedelta(seconds=delay),
                      "due_at": now + (HELD if channel == "webhook" and plan.hook_kill else timedelta(seconds=delay)),
                      "attempts": 0, "content": {}, "created_at": now, "updated_at": now}
                     for step, channel, delay in steps]
        connection.execute(insert(Message), rows)
    webhook = client.get("/v1/connections/sendgrid", headers=headers).json["event_webhook_url"]
    return account_id, server_url + webhook.removeprefix(app.config["PUBLIC_URL"])


def release_webhooks(app) -> None:
    """Make the held-back webhook messages due now."""
    with app.app_context(), db.transaction() as session:
        session.execute(update(Message).where(Message.channel == "webhook", Message.status == "scheduled")
                        .values(due_at=db.utcnow()))


def marked(app, plan: Plan) -> tuple[set[int], set[int]]:
    """Ids of the second emails answered 429 once, and of the first emails SendGrid drops."""
    with app.app_context():
        rows = db.session().execute(select(Message.id, Message.step, Contact.external_id)
                                    .join(Contact, Contact.id == Message.contact_id)).all()
    refuse = {r.id for r in rows if r.step.startswith("2.") and int(r.external_id[1:]) % plan.refuse_every == 0}
    drop = {r.id for r in rows if r.step.startswith("1.pick") and int(r.external_id[1:]) % plan.drop_every == 0}
    return refuse, drop


def worker(env: dict[str, str], queue: str) -> subprocess.Popen:
    """An RQ worker process as the Procfile runs it, in a process group of its own (with its scheduler)."""
    log = open(os.environ["CHAOS_LOG"], "a") if os.environ.get("CHAOS_LOG") else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, "-m", "rq.cli", "worker", "--with-scheduler", "--url",
                             env["REDIS_URL"], "--worker-class", "rq.worker.SimpleWorker", queue],
                            cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=log, start_new_session=True)


class Quiet(WSGIRequestHandler):
    """No access log line for each of the Event Webhook's batches."""

    def log_request(self, *args, **kwargs) -> None:
        pass


def unsettled(app) -> int:
    """Messages and deliveries not yet in a final state."""
    with app.app_context():
        session = db.session()
        messages = session.scalar(select(func.count()).select_from(Message).where(Message.status.not_in(FINAL)))
        deliveries = session.scalar(select(func.count()).select_from(HookDelivery).where(
            HookDelivery.status.not_in(("delivered", "failed", "cancelled"))))
        events = session.scalar(select(func.count()).select_from(Event).where(Event.processed_at.is_(None)))
        session.commit()
    return messages + deliveries + events


def run(database_url: str, redis_url: str, plan: Plan, queue: str = "chaos") -> dict:
    """Run the plan to the end; answer the figures (see `report`)."""
    rng = random.Random(24)
    def delay(message_id: int) -> float:
        return plan.slow_seconds if plan.slow_every and message_id % plan.slow_every == 0 else plan.answer_seconds

    sendgrid, receiver = EventfulSendGrid(delay), SlowReceiver(plan.hook_seconds)
    env = environment(database_url, redis_url, queue, sendgrid.url, plan)
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)  # this process's app reads the same settings as the workers
    try:
        app = create_app({"CLOCK_IN_PROCESS": False, "CLOCK_INTERVAL_SECONDS": 0.5, "API_KEY_CACHE_SECONDS": 0,
                          "RATE_LIMIT": "1000000 per minute"})
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    account_id, sendgrid.webhook_url = seed(app, plan, f"http://127.0.0.1:{server.server_port}", receiver.url + "/hook")
    sendgrid.refuse_once, sendgrid.drop = marked(app, plan)
    workers = [worker(env, queue) for _ in range(plan.workers)]
    started = time.monotonic()
    stop_clock = clock.start_thread(app)
    kills, last_kill = 0, started
    emails = 2 * plan.enrollments
    try:
        # Each kill lands while sends are going on: once SendGrid has seen the next share of the POSTs.
        for mark in (emails * (n + 1) // (plan.kills + 1) for n in range(plan.kills)):
            while sendgrid.total < mark and time.monotonic() - started < plan.settle_seconds:
                time.sleep(0.02)
            victim = rng.randrange(len(workers))
            os.killpg(workers[victim].pid, signal.SIGKILL)  # the worker and its scheduler, as a crashed host
            workers[victim].wait()
            workers[victim] = worker(env, queue)
            kills, last_kill = kills + 1, time.monotonic()
        if plan.hook_kill:
            release_webhooks(app)
        while plan.hook_kill and not receiver.waiting and time.monotonic() - started < plan.settle_seconds:
            time.sleep(0.02)
        if plan.hook_kill and receiver.waiting:
            for n, process in enumerate(workers):  # whichever posts it dies with the others
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                workers[n] = worker(env, queue)
            kills, last_kill = kills + len(workers), time.monotonic()
        while (left := unsettled(app)) and time.monotonic() - started < plan.settle_seconds:
            if os.environ.get("CHAOS_TRACE"):
                print(f"{time.monotonic() - started:6.1f} s: {left} unsettled", flush=True)
            time.sleep(0.5)
        settled = time.monotonic()
    finally:
        stop_clock.set()
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        sendgrid.flush()
        server.shutdown()
        sendgrid.close()
        receiver.close()
    figures = tally(app, sendgrid, receiver)
    figures.update(kills=kills, seconds=round(settled - started, 1),
                   settle_after_last_kill=round(settled - last_kill, 1), account_id=account_id)
    with app.app_context():
        db.engine().dispose()
    return figures


def tally(app, sendgrid: EventfulSendGrid, receiver: SlowReceiver) -> dict:
    """What became of every message and delivery, set against what SendGrid and the hook target saw."""
    with app.app_context():
        session = db.session()
        messages = session.execute(select(Message.id, Message.status, Message.reason, Message.channel,
                                          Message.attempts)).all()
        deliveries = session.execute(select(HookDelivery.id, HookDelivery.status, HookDelivery.attempts,
                                            HookDelivery.history)).all()
    emails = [m for m in messages if m.channel == "email"]
    went = [m for m in emails if m.status in ("sent", "delivered", "opened", "clicked")]
    limit = app.config["HOOK_MAX_ATTEMPTS"]
    return {
        "messages": len(messages), "emails": len(emails), "posts": sum(sendgrid.posts.values()),
        "went": len(went), "dropped": sum(m.status == "dropped" for m in emails),
        "failed": sum(m.status == "failed" for m in messages),
        # Wrong outcomes: each must be 0.
        "sent_twice": sum(count > 1 for count in sendgrid.accepted.values()),
        "went_not_taken": sum(sendgrid.accepted[m.id] != 1 for m in went),
        "failed_but_taken": sum(sendgrid.accepted[m.id] > 0 for m in emails if m.status == "failed"),
        "dropped_unconfirmed": sum(m.id not in sendgrid.dropped for m in emails if m.status == "dropped"),
        "skipped_by_sibling": sum(m.status == "skipped" and "completed" in (m.reason or "") for m in messages),
        "unfinished": sum(m.status not in FINAL for m in messages),
        # How the kills were met: sends recorded from SendGrid's events, sends tried more than once.
        "recovered_from_events": sum("provider's events" in (m.reason or "") for m in went),
        "tried_again": sum(m.attempts > 1 for m in messages),
        "deliveries": len(deliveries), "delivered": sum(d.status == "delivered" for d in deliveries),
        "delivery_posts": sum(receiver.posts.values()),
        "most_posts_per_delivery": max(receiver.posts.values(), default=0),
        "posted_over_limit": sum(count > limit for count in receiver.posts.values()),
        "history_short": sum(len(d.history) < min(d.attempts, 10) for d in deliveries),
        "deliveries_unfinished": sum(d.status not in ("delivered", "failed", "cancelled") for d in deliveries),
    }


WRONG = ("sent_twice", "went_not_taken", "failed_but_taken", "dropped_unconfirmed", "skipped_by_sibling", "unfinished",
         "posted_over_limit", "history_short", "deliveries_unfinished")


def report(figures: dict) -> str:
    """The figures as lines to print."""
    return "\n".join(f"{name:>24}: {value}" for name, value in figures.items())
