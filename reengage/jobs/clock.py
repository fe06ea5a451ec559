"""The clock: finds work that has come due in the database and hands it to jobs."""

import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import ColumnElement, Select, bindparam, exists, select

from reengage import hooks
from reengage.detection import detect
from reengage.jobs import crm, status, ticks
from reengage.jobs.events import process_events
from reengage.jobs.hooks import deliver_hooks
from reengage.jobs.messages import send_messages
from reengage.links.provider import of_kind
from reengage.models import Connection, Deal, Enrollment, Event
from reengage.models.deal import TO_OPEN, TO_PUSH
from reengage.models.enrollment import CALLBACK_DUE
from reengage.platform import db, queue, turns
from reengage.platform.listed import one_of
from reengage.sending import dispatch, recovery
from reengage.sequencing import assignment, enrollments
from reengage.winback import deals as winback_deals

log = logging.getLogger(__name__)

# How many due rows one task hands on per transaction.
BATCH = 1000
# Due messages one tick claims at most (in BATCH-sized transactions); the rest wait for the next tick.
MAX_MESSAGES_PER_TICK = 50_000
# Deliveries one job posts: small, since each waits on a customer's server.
HOOK_CHUNK = 20


# Events stored long enough ago (before `stale_before`) that their processing must have been lost.
UNPROCESSED = [Event.processed_at.is_(None), Event.received_at < bindparam("stale_before")]
# In turns between accounts (each account's oldest first): one account's backlog does not fill the sweep.
UNPROCESSED_IN_TURNS = turns.due_in_turns(Event.__table__, UNPROCESSED, [Event.received_at], bindparam("limit"))


def _stale_before(at: datetime) -> datetime:
    return at - timedelta(seconds=current_app.config["EVENT_REPROCESS_AFTER_SECONDS"])


def requeue_unprocessed_events(at: datetime) -> int:
    """Hand events that were stored but never processed (a lost job, a restart) to a job."""
    ids = list(db.session().scalars(UNPROCESSED_IN_TURNS, {"stale_before": _stale_before(at), "limit": BATCH}))
    db.session().commit()
    if ids:
        # One id for the sweep: while workers are down, ticks do not pile up copies of it.
        queue.enqueue(process_events, ids, job_id="clock-requeue-unprocessed-events")
    return len(ids)


def expire_watches(at: datetime) -> int:
    """Turn watches whose deadline has passed into dropoffs."""
    return detect.expire_due(at, BATCH)


def enroll_ready_dropoffs(at: datetime) -> int:
    """Enroll dropoffs that are ready for outreach in the flows mapped to them (and those whose wait is over)."""
    assignment.wake_waiting(at)
    return assignment.enroll_ready(at, BATCH)


def dispatch_due_messages(at: datetime) -> int:
    """Claim messages whose send time has come, in turns between accounts, and hand them to send jobs."""
    # Ranked once a tick, claimed BATCH at a time: every account's first messages go in the first jobs.
    due = dispatch.due(at, MAX_MESSAGES_PER_TICK)
    claimed = 0
    for start in range(0, len(due), BATCH):
        ids = dispatch.claim(due[start:start + BATCH], at)
        for chunk in range(0, len(ids), dispatch.CHUNK):
            queue.enqueue(send_messages, ids[chunk:chunk + dispatch.CHUNK])
        claimed += len(ids)
    return claimed


def requeue_stalled_messages(at: datetime) -> int:
    """Hand queued messages whose job was lost to a job again; settle those cut off mid-send by their channel."""
    queued = recovery.stalled(at, BATCH)
    for start in range(0, len(queued), dispatch.CHUNK):
        # Jobs of a send job's size (so their timeout fits); named by their first id, so while workers are
        # down, ticks do not pile up copies.
        chunk = queued[start:start + dispatch.CHUNK]
        queue.enqueue(send_messages, chunk, job_id=f"clock-requeue-stalled-messages-{chunk[0]}")
    return len(queued)


def complete_holdouts(at: datetime) -> int:
    """Complete held-out enrollments whose last would-be step has passed."""
    return enrollments.complete_holdouts(at, BATCH)


def complete_workflow_callbacks(at: datetime) -> int:
    """Hand ended enrollments whose HubSpot workflow waits for the outcome to a job."""
    ids = list(db.session().scalars(select(Enrollment.id).where(CALLBACK_DUE).order_by(Enrollment.ended_at)
                                    .limit(BATCH)))
    db.session().commit()
    if ids:
        queue.enqueue(crm.complete_callbacks, ids, job_id="clock-hubspot-callbacks")
    return len(ids)


def sync_closed_lost_deals(at: datetime) -> int:
    """Start the closed-lost deal sync of each HubSpot connection whose next sync is due."""
    due = crm.due_deal_syncs(at)
    for connection_id in due:
        queue.enqueue(crm.sync_closed_lost, connection_id, job_id=f"clock-hubspot-deals-{connection_id}")
    return len(due)


def poll_service_statuses(at: datetime) -> int:
    """Have connected status sources looked up for the services maintenance dropoffs wait on."""
    due = status.due_polls(at)
    for connection_id in due:
        queue.enqueue(status.poll_services, connection_id, job_id=f"clock-status-{connection_id}")
    return len(due)


def open_winback_windows(at: datetime) -> int:
    """Make deals whose re-engagement window has opened ready (high or medium priority)."""
    return winback_deals.open_due(at, BATCH)


def push_winback_drafts(at: datetime) -> int:
    """Hand ready deals whose draft waits for HubSpot to the job that makes the owner's task."""
    ids = list(db.session().scalars(select(Deal.id).where(TO_PUSH).order_by(Deal.ready_at).limit(BATCH)))
    db.session().commit()
    if ids:
        queue.enqueue(crm.push_winback_drafts, ids, job_id="clock-hubspot-winback-drafts")
    return len(ids)


def write_hubspot_outcomes(at: datetime) -> int:
    """Hand enrollments that ended since each HubSpot connection's cursor to the job writing their status there."""
    due = crm.due_outcomes(at, BATCH)
    for connection_id, ids, through in due:
        queue.enqueue(crm.write_outcomes, connection_id, ids, through, job_id=f"clock-hubspot-outcomes-{connection_id}")
    return sum(len(ids) for _, ids, _ in due)


def deliver_due_hooks(at: datetime) -> int:
    """Claim REST hook deliveries whose time has come (new items, retries) and hand them to delivery jobs."""
    ids = hooks.claim_due(at, BATCH)
    for start in range(0, len(ids), HOOK_CHUNK):
        queue.enqueue(deliver_hooks, ids[start:start + HOOK_CHUNK])
    return len(ids)


def requeue_stalled_hooks(at: datetime) -> int:
    """Hand deliveries whose job was lost or cut off to a job again."""
    ids = hooks.stalled(at, BATCH)
    if ids:
        queue.enqueue(deliver_hooks, ids, job_id="clock-requeue-stalled-hooks")
    return len(ids)


def _connected(kind: str) -> ColumnElement[bool]:
    """Whether any account has a working connection to a provider of `kind` (a CRM, a status source), asked with
    the app's providers of that kind."""
    return exists().where(one_of(Connection.provider, f"{kind}_providers"),
                          Connection.status != db.constant("broken"))


# Every task runs on every tick, in this order; each finds its due rows through an index on their due time.
TASKS: tuple[Callable[[datetime], int], ...] = (
    requeue_unprocessed_events, expire_watches, enroll_ready_dropoffs, dispatch_due_messages, requeue_stalled_messages,
    complete_holdouts, complete_workflow_callbacks, sync_closed_lost_deals, poll_service_statuses, open_winback_windows,
    push_winback_drafts, write_hubspot_outcomes,
    # Last, so that what this tick detected, sent or recovered is delivered in the same tick.
    deliver_due_hooks, requeue_stalled_hooks,
)
# Whether a task may have anything due (never false when it has): a tick asks all of these in one query, with the
# values `_asked_with` gives, and skips the tasks that have nothing, so an idle tick is one transaction rather
# than one per task. A task not listed runs on every tick. Built once, like the question asking them (`_question`),
# since building them was most of an idle tick's time; the query's text stays the same, so PostgreSQL plans it once.
MAY_HAVE_WORK: dict[Callable[[datetime], int], ColumnElement[bool]] = {
    requeue_unprocessed_events: exists().where(*UNPROCESSED),
    expire_watches: exists().where(*detect.OPEN_DUE),
    enroll_ready_dropoffs: assignment.ANY_READY,
    dispatch_due_messages: exists().where(*dispatch.SCHEDULED_DUE),
    requeue_stalled_messages: recovery.ANY_STALLED,
    complete_holdouts: exists().where(enrollments.HELD_OUT_ACTIVE, Enrollment.ends_at <= bindparam("now")),
    complete_workflow_callbacks: exists().select_from(Enrollment).where(CALLBACK_DUE),
    sync_closed_lost_deals: _connected("crm"),
    poll_service_statuses: _connected("status"),
    open_winback_windows: exists().where(TO_OPEN, Deal.window_start <= bindparam("now")),
    push_winback_drafts: exists().select_from(Deal).where(TO_PUSH),
    write_hubspot_outcomes: _connected("crm"),
    deliver_due_hooks: exists().where(*hooks.PENDING_DUE),
    requeue_stalled_hooks: hooks.ANY_STALLED,
}


def _asked_with(at: datetime) -> dict[str, Any]:
    """The values the conditions of MAY_HAVE_WORK are asked with as of `at`."""
    return {"now": at, "stale_before": _stale_before(at), "crm_providers": of_kind("crm"),
            "status_providers": of_kind("status"), **recovery.stall_limits(at), **hooks.stall_limits(at)}


@functools.lru_cache(maxsize=len(TASKS) * 2)
def _question(asked: tuple[tuple[str, ColumnElement[bool]], ...]) -> Select[Any]:
    """One query answering each (task name, condition) of `asked` in a column of its own."""
    columns: list[ColumnElement[Any]] = [condition.label(name) for name, condition in asked]
    return select(*columns)


def with_work(at: datetime, tasks: Sequence[Callable[[datetime], int]]) -> set[Callable[[datetime], int]]:
    """Those of `tasks` that may have something due as of `at` (all of them, if asking fails)."""
    asked = [task for task in tasks if task in MAY_HAVE_WORK]
    if not asked:
        return set(tasks)
    try:
        question = _question(tuple((task.__name__, MAY_HAVE_WORK[task]) for task in asked))
        with db.single_read() as connection:
            answers = connection.execute(question, _asked_with(at)).one()
    except Exception:
        log.exception("could not ask which clock tasks have work; running them all")
        return set(tasks)
    return {task for task in tasks if task not in MAY_HAVE_WORK} | {
        task for task, due in zip(asked, answers, strict=True) if due}


def tick(app: Flask, at: datetime | None = None) -> dict[str, int]:
    """Run every task once, as of `at` (now by default); one failing task does not stop the others."""
    travelling = at is not None
    at = at or db.utcnow()
    handed_on: dict[str, int] = {}
    runs: list[ticks.TaskRun] = []
    busy: set[Callable[[datetime], int]] | None = None
    for number, task in enumerate(TASKS):
        if busy is None:  # asked again after a task did something: what it did may give later tasks work
            with app.app_context():
                busy = with_work(at, TASKS[number:])
        if task not in busy:
            handed_on[task.__name__] = 0
            runs.append(ticks.TaskRun(task.__name__, 0, 0.0))
            continue
        # A tick as of another time runs its jobs (when inline) as of that time too.
        with app.app_context(), db.as_of(at) if travelling else nullcontext():
            started, error = time.perf_counter(), None
            try:
                handed_on[task.__name__] = task(at)
            except Exception as failure:
                error = type(failure).__name__
                log.exception("clock task %s failed", task.__name__)
            runs.append(ticks.TaskRun(task.__name__, handed_on.get(task.__name__, 0), time.perf_counter() - started,
                                      error))
        if handed_on.get(task.__name__) or error:
            busy = None
    if not travelling:
        # Only ticks on the wall clock count as the clock being alive (readiness, clock lag).
        with app.app_context():
            try:
                ticks.record(db.utcnow(), runs)
            except Exception:
                log.exception("could not record the clock tick")
    return handed_on


def run(app: Flask, stop: threading.Event) -> None:
    """Tick every CLOCK_INTERVAL_SECONDS until `stop` is set."""
    interval = app.config["CLOCK_INTERVAL_SECONDS"]
    log.info("clock started, ticking every %ss", interval)
    while not stop.is_set():
        tick(app)
        stop.wait(interval)


def start_thread(app: Flask) -> threading.Event:
    """Run the clock on a daemon thread of this process; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=run, args=(app, stop), name="clock", daemon=True).start()
    return stop
