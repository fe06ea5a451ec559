"""REST hooks: subscriptions, the deliveries their trigger's new items create, and what became of each.

A producer (detection, recovery, sending, the event processors) calls `publish` in the transaction
that makes the items, so an item is never published without being stored, nor stored without being
published. Each item is rendered once by its trigger, kept as polls answer it, and stored once per hook
(the app gives the renderer: `init_app`, as triggers sit above the engine);
the clock hands due deliveries to jobs, which POST them (connectors.webhook) and record each attempt.
"""

import base64
import json
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import ColumnElement, Row, bindparam, select, update

from connectors import webhook
from connectors.errors import ConnectorError
from reengage.models import Hook, HookDelivery
from reengage.models.event import ENGAGEMENT_TYPES
from reengage.platform import db, metrics, stalls, vault

table = HookDelivery.__table__
PENDING_DUE = (table.c.status == db.constant("pending"), table.c.due_at <= bindparam("now"))
DUE = (select(table.c.id).where(*PENDING_DUE)
       .order_by(table.c.due_at).limit(bindparam("limit")).with_for_update(skip_locked=True))
# A POST starts: the delivery is `sending` from now (queued_at is then when its POST started).
CLAIM = (update(table).where(table.c.id == bindparam("claim_id"), table.c.status == "queued")
         .values(status="sending", attempts=table.c.attempts + 1, queued_at=bindparam("now")).returning(table.c.id))
# How an attempt reads in the history until its answer is recorded: as it stays when the POST is cut off.
CUT_OFF = "interrupted: no answer was recorded (the job posting it stopped)"
# Attempts kept in a delivery's history; older ones are dropped.
HISTORY = 10
# The longest pause between two attempts.
MAX_PAUSE = timedelta(hours=1)


@dataclass(frozen=True)
class Renderer:
    """An event's items as its polling trigger shows them, and whether one passes a hook's filters."""

    items: Callable[[str, int, list[int]], list[dict[str, Any]]]  # (event, account id, item ids) -> items
    matches: Callable[[str, dict[str, Any], dict[str, Any]], bool]  # (event, item, a hook's filters)
    keep: Callable[[str, int, list[dict[str, Any]], datetime], None]  # (event, account id, items, now): for polls


def init_app(app: Flask, renderer: Renderer) -> None:
    """Give the app the renderer of published items."""
    app.extensions["hooks"] = renderer


def target_check(url: str) -> None:
    """Refuse a target URL this server must not post to (raises ConnectorError)."""
    config = current_app.config
    webhook.check_target(url, config["HOOK_REQUIRE_HTTPS"], webhook.networks(config["HOOK_ALLOWED_NETWORKS"]))


def subscribe(account_id: int, event: str, target_url: str, filters: dict, label: str | None) -> tuple[Hook, str]:
    """Create a hook; (the hook, its signing secret, shown this once)."""
    secret = f"{webhook.SECRET_PREFIX}{base64.b64encode(secrets.token_bytes(32)).decode()}"
    hook = Hook(account_id=account_id, event=event, target_url=target_url, filters=filters, label=label,
                sealed_secret=vault.seal({"secret": secret}), created_at=db.utcnow())
    db.session().add(hook)
    db.session().flush()
    return hook, secret


def remove(hook: Hook, reason: str, at: datetime) -> None:
    """Remove a hook: nothing more is published to it, and what waits for it is cancelled."""
    if hook.removed_at is not None:
        return
    hook.removed_at, hook.removed_reason = at, reason[:200]
    db.session().execute(update(table).where(table.c.hook_id == hook.id, table.c.status.in_(("pending", "queued")))
                         .values(status="cancelled", reason=f"hook removed: {reason}"[:500]))


def subscribed(event: str, account_ids: set[int]) -> dict[int, list[Hook]]:
    """The live hooks on `event` of these accounts (one indexed query; most accounts have none)."""
    if not account_ids:
        return {}
    found: dict[int, list[Hook]] = {}
    query = select(Hook).where(Hook.account_id.in_(account_ids), Hook.event == event, Hook.removed_at.is_(None))
    for hook in db.session().scalars(query):
        found.setdefault(hook.account_id, []).append(hook)
    return found


def publish(event: str, ids_by_account: dict[int, list[int]], hooks: dict[int, list[Hook]] | None = None) -> int:
    """Keep each item as polls will answer it, and store a delivery of it to each live hook on `event` whose filters
    it passes; answer how many deliveries.

    `hooks` is what `subscribed` answered, when the caller already asked.
    """
    accounts = {account for account, ids in ids_by_account.items() if ids}
    if hooks is None:
        hooks = subscribed(event, accounts)
    renderer: Renderer = current_app.extensions["hooks"]
    rows, at = [], db.utcnow()
    for account_id in accounts:
        items = renderer.items(event, account_id, ids_by_account[account_id])
        renderer.keep(event, account_id, items, at)
        for item in items:
            rows += [{"hook_id": hook.id, "account_id": account_id, "item_id": str(item["id"]), "payload": item,
                      "status": "pending", "attempts": 0, "due_at": at, "history": [], "created_at": at}
                     for hook in hooks.get(account_id, ()) if renderer.matches(event, item, hook.filters)]
    if rows:
        # A producer run twice publishes an item once per hook.
        db.session().execute(db.insert_new(table).on_conflict_do_nothing(), rows)
    return len(rows)


def on_events(claimed: Sequence[Row]) -> None:
    """Publish the engagement events among `claimed` to contact.engaged hooks (an event processor)."""
    engaged: dict[int, list[int]] = defaultdict(list)
    for event in claimed:
        if event.type in ENGAGEMENT_TYPES:
            engaged[event.account_id].append(event.id)
    if engaged:
        publish("contact.engaged", engaged)


def claim_due(now: datetime, limit: int) -> list[int]:
    """Move up to `limit` due deliveries from pending to queued; answer their ids."""
    with db.transaction() as db_session:
        connection = db_session.connection()
        ids = list(connection.scalars(DUE, {"now": now, "limit": limit}))
        if ids:
            connection.execute(update(table).where(table.c.id.in_(ids)).values(status="queued", queued_at=now))
    return ids


# How long a delivery may stay queued, and sending, before it counts as stalled.
STALLS = ("HOOK_REQUEUE_AFTER_SECONDS", "HOOK_SENDING_TIMEOUT_SECONDS")


# Whether `stalled` would find anything, asked with `stall_limits` (for the clock, which skips idle tasks).
ANY_STALLED: ColumnElement[bool] = stalls.any_stalled(table)


def stall_limits(now: datetime) -> dict[str, datetime]:
    """The values ANY_STALLED is asked with as of `now`."""
    return stalls.as_of(table, now, *STALLS)


def stalled(now: datetime, limit: int) -> list[int]:
    """Deliveries handed to a job long ago and never taken: queued again. Those cut off mid-POST wait for their
    next attempt (its pause as after a failure), or fail when that was their last."""
    config = current_app.config
    before, cut_before = stalls.limits(now, *STALLS)
    with db.transaction() as db_session:
        connection = db_session.connection()
        ids = list(connection.scalars(select(table.c.id)
                                      .where(stalls.in_flight(table, "queued"), table.c.queued_at < before)
                                      .order_by(table.c.queued_at).limit(limit)))
        if ids:
            connection.execute(update(table).where(table.c.id.in_(ids)).values(queued_at=now))
        cut = list(db_session.scalars(select(HookDelivery).where(stalls.in_flight(table, "sending"),
                                                                 HookDelivery.queued_at < cut_before)
                                      .order_by(HookDelivery.queued_at).limit(limit).with_for_update()))
        for delivery in cut:
            if delivery.attempts < config["HOOK_MAX_ATTEMPTS"]:
                delivery.status, delivery.due_at = "pending", now + _pause(delivery.attempts)
                delivery.reason = f"retrying after: {CUT_OFF}"
            else:
                delivery.status, delivery.reason = "failed", f"out of attempts; the last one was {CUT_OFF}"
    return ids


def deliver(delivery_ids: list[int]) -> dict[str, int]:
    """POST the given queued deliveries, each claimed (and its attempt recorded) just before its POST."""
    outcomes: dict[str, int] = {}
    for delivery_id in sorted(set(delivery_ids)):
        with db.transaction() as db_session:
            now = db.utcnow()
            if db_session.connection().scalar(CLAIM, {"claim_id": delivery_id, "now": now}) is None:
                continue  # taken by another job, or no longer waiting
            delivery = db_session.get_one(HookDelivery, delivery_id)
            hook = db_session.get_one(Hook, delivery.hook_id)
            delivery.history = [*delivery.history, {"at": now.isoformat(), "status": None, "error": CUT_OFF,
                                                    "ms": None}][-HISTORY:]
            post = (hook.id, hook.event, hook.target_url, hook.sealed_secret, delivery.payload)
            live = hook.removed_at is None
        outcome, elapsed = _post(delivery_id, *post) if live else (None, 0.0)
        with db.transaction() as db_session:
            delivery = db_session.get_one(HookDelivery, delivery_id)
            _apply(delivery, db_session.get_one(Hook, delivery.hook_id), outcome, elapsed, db.utcnow())
            outcomes[delivery.status] = outcomes.get(delivery.status, 0) + 1
    return outcomes


def _pause(attempts: int) -> timedelta:
    """The pause before the next attempt after `attempts` failed ones: 30 s, 1, 2, 4... minutes (by default), at
    most an hour."""
    first = current_app.config["HOOK_RETRY_AFTER_SECONDS"]
    return min(timedelta(seconds=first * 2 ** (attempts - 1)), MAX_PAUSE)


def _post(delivery_id: int, hook_id: int, event: str, url: str, sealed: str,
          payload: dict) -> tuple[int | ConnectorError, float]:
    started = time.perf_counter()
    try:
        target_check(url)  # again at send time: the host may now resolve elsewhere
        secret = vault.unseal(sealed)["secret"]
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {"Reengage-Event": event, "Reengage-Hook": str(hook_id), "Reengage-Delivery": str(delivery_id)}
        outcome: int | ConnectorError = webhook.post(url, body, secret, headers,
                                                     current_app.config["CONNECTOR_TIMEOUT_SECONDS"],
                                                     f"msg_{delivery_id}")
    except ConnectorError as error:
        outcome = error
    except vault.SealedError as error:
        outcome = ConnectorError("permanent", f"the hook's secret cannot be read: {error}")
    seconds = time.perf_counter() - started
    metrics.HOOK_DELIVERY_SECONDS.labels("delivered" if isinstance(outcome, int) else "failed").observe(seconds)
    if not isinstance(outcome, int):
        metrics.HOOK_DELIVERY_FAILURES.labels(outcome.kind if outcome.status != 410 else "gone").inc()
    return outcome, seconds * 1000


def _apply(delivery: HookDelivery, hook: Hook, outcome: int | ConnectorError | None, elapsed: float,
           now: datetime) -> None:
    if delivery.status != "sending":
        return  # settled meanwhile (the hook removed)
    history = list(delivery.history)
    # The attempt recorded when its POST started, now with its answer.
    attempt: dict[str, Any] = dict(history.pop()) if history and history[-1].get("error") == CUT_OFF else {}
    if outcome is None:
        delivery.status, delivery.reason = "cancelled", f"hook removed: {hook.removed_reason}"[:500]
        delivery.history = history
        return
    attempt.update({"at": attempt.get("at", now.isoformat()), "status": None, "error": None, "ms": round(elapsed, 1)})
    if isinstance(outcome, int):
        attempt["status"] = outcome
        delivery.status, delivery.delivered_at, delivery.reason = "delivered", now, None
    else:
        attempt["status"], attempt["error"] = outcome.status, outcome.message[:300]
        if outcome.status == 410:
            delivery.status, delivery.reason = "cancelled", "the target answered 410 Gone: the hook was removed"
            remove(hook, "the target answered 410 Gone", now)
        elif outcome.retryable and delivery.attempts < current_app.config["HOOK_MAX_ATTEMPTS"]:
            pause = _pause(delivery.attempts)
            if outcome.retry_after is not None:
                pause = min(timedelta(seconds=outcome.retry_after), MAX_PAUSE)
            delivery.status, delivery.due_at = "pending", now + pause
            delivery.reason = f"retrying after: {outcome.message}"[:500]
        else:
            delivery.status, delivery.reason = "failed", f"{outcome.kind}: {outcome.message}"[:500]
    delivery.history = [*history, attempt][-HISTORY:]
