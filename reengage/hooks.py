"""REST hooks: subscriptions, the deliveries their trigger's new items create, and what became of each.

A producer (detection, recovery, sending, the event processors) calls `publish` in the transaction
that makes the items, so an item is never published without being stored, nor stored without being
published. Each item is rendered by its trigger, exactly as a poll shows it, and stored once per hook
(the app gives the renderer: `init_app`, as triggers sit above the engine);
the clock hands due deliveries to jobs, which POST them (connectors.webhook) and record each attempt.
"""

import json
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Row, bindparam, select, update

from connectors import webhook
from connectors.errors import ConnectorError
from reengage.models import Hook, HookDelivery
from reengage.models.event import ENGAGEMENT_TYPES
from reengage.models.hook import IN_FLIGHT
from reengage.platform import db, metrics, vault

table = HookDelivery.__table__
DUE = (select(table.c.id).where(table.c.status == "pending", table.c.due_at <= bindparam("now"))
       .order_by(table.c.due_at).limit(bindparam("limit")).with_for_update(skip_locked=True))
CLAIM = (update(table).where(table.c.id.in_(bindparam("ids", expanding=True)), table.c.status == "queued")
         .values(status="sending", attempts=table.c.attempts + 1).returning(table.c.id))
# Attempts kept in a delivery's history; older ones are dropped.
HISTORY = 10
# The longest pause between two attempts.
MAX_PAUSE = timedelta(hours=1)


@dataclass(frozen=True)
class Renderer:
    """An event's items as its polling trigger shows them, and whether one passes a hook's filters."""

    items: Callable[[str, int, list[int]], list[dict[str, Any]]]  # (event, account id, item ids) -> items
    matches: Callable[[str, dict[str, Any], dict[str, Any]], bool]  # (event, item, a hook's filters)


def init_app(app: Flask, renderer: Renderer) -> None:
    """Give the app the renderer of published items."""
    app.extensions["hooks"] = renderer


def target_check(url: str) -> None:
    """Refuse a target URL this server must not post to (raises ConnectorError)."""
    config = current_app.config
    webhook.check_target(url, config["HOOK_REQUIRE_HTTPS"], webhook.networks(config["HOOK_ALLOWED_NETWORKS"]))


def subscribe(account_id: int, event: str, target_url: str, filters: dict, label: str | None) -> tuple[Hook, str]:
    """Create a hook; (the hook, its signing secret, shown this once)."""
    secret = f"whsec_{secrets.token_urlsafe(32)}"
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
    """Store a delivery of each item to each live hook on `event` whose filters it passes; answer how many.

    `hooks` is what `subscribed` answered, when the caller already asked.
    """
    if hooks is None:
        hooks = subscribed(event, {account for account, ids in ids_by_account.items() if ids})
    if not hooks:
        return 0
    renderer: Renderer = current_app.extensions["hooks"]
    rows, at = [], db.utcnow()
    for account_id, account_hooks in hooks.items():
        if not ids_by_account.get(account_id):
            continue
        for item in renderer.items(event, account_id, ids_by_account[account_id]):
            rows += [{"hook_id": hook.id, "account_id": account_id, "item_id": str(item["id"]), "payload": item,
                      "status": "pending", "attempts": 0, "due_at": at, "history": [], "created_at": at}
                     for hook in account_hooks if renderer.matches(event, item, hook.filters)]
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


def stalled(now: datetime, limit: int) -> list[int]:
    """Deliveries handed to a job long ago that never finished: queued again (a receiver dedupes on the item id)."""
    before = now - timedelta(seconds=current_app.config["HOOK_REQUEUE_AFTER_SECONDS"])
    with db.transaction() as db_session:
        connection = db_session.connection()
        ids = list(connection.scalars(select(table.c.id).where(IN_FLIGHT, table.c.queued_at < before)
                                      .order_by(table.c.queued_at).limit(limit)))
        if ids:
            connection.execute(update(table).where(table.c.id.in_(ids)).values(status="queued", queued_at=now))
    return ids


def deliver(delivery_ids: list[int]) -> dict[str, int]:
    """POST the given queued deliveries, each claimed by one job; answer how many ended in each state."""
    with db.transaction() as db_session:
        claimed = list(db_session.connection().scalars(CLAIM, {"ids": list(delivery_ids)}))
        work = db_session.execute(select(HookDelivery, Hook).join(Hook, Hook.id == HookDelivery.hook_id)
                                  .where(HookDelivery.id.in_(claimed)).order_by(HookDelivery.id)).all()
        posts = [(delivery.id, hook.id, hook.event, hook.target_url, hook.sealed_secret, delivery.payload,
                  hook.removed_at is None) for delivery, hook in work]
    results: list[tuple[int, int, int | ConnectorError | None, float]] = []
    for delivery_id, hook_id, event, url, sealed, payload, live in posts:
        if not live:
            results.append((delivery_id, hook_id, None, 0.0))
            continue
        results.append((delivery_id, hook_id, *_post(delivery_id, hook_id, event, url, sealed, payload)))
    return _record(results)


def _post(delivery_id: int, hook_id: int, event: str, url: str, sealed: str,
          payload: dict) -> tuple[int | ConnectorError, float]:
    started = time.perf_counter()
    try:
        target_check(url)  # again at send time: the host may now resolve elsewhere
        secret = vault.unseal(sealed)["secret"]
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {"Reengage-Event": event, "Reengage-Hook": str(hook_id), "Reengage-Delivery": str(delivery_id)}
        outcome: int | ConnectorError = webhook.post(url, body, secret, headers,
                                                     current_app.config["CONNECTOR_TIMEOUT_SECONDS"])
    except ConnectorError as error:
        outcome = error
    except vault.SealedError as error:
        outcome = ConnectorError("permanent", f"the hook's secret cannot be read: {error}")
    seconds = time.perf_counter() - started
    metrics.HOOK_DELIVERY_SECONDS.labels("delivered" if isinstance(outcome, int) else "failed").observe(seconds)
    if not isinstance(outcome, int):
        metrics.HOOK_DELIVERY_FAILURES.labels(outcome.kind if outcome.status != 410 else "gone").inc()
    return outcome, seconds * 1000


def _record(results: list[tuple[int, int, int | ConnectorError | None, float]]) -> dict[str, int]:
    outcomes: dict[str, int] = {}
    if not results:
        return outcomes
    with db.transaction() as db_session:
        now = db.utcnow()
        deliveries = {d.id: d for d in db_session.scalars(
            select(HookDelivery).where(HookDelivery.id.in_([r[0] for r in results])))}
        hooks = {h.id: h for h in db_session.scalars(select(Hook).where(Hook.id.in_({r[1] for r in results})))}
        for delivery_id, hook_id, outcome, elapsed in results:
            delivery = deliveries[delivery_id]
            _apply(delivery, hooks[hook_id], outcome, elapsed, now)
            outcomes[delivery.status] = outcomes.get(delivery.status, 0) + 1
    return outcomes


def _apply(delivery: HookDelivery, hook: Hook, outcome: int | ConnectorError | None, elapsed: float,
           now: datetime) -> None:
    if outcome is None:
        delivery.status, delivery.reason = "cancelled", f"hook removed: {hook.removed_reason}"[:500]
        return
    attempt: dict[str, Any] = {"at": now.isoformat(), "status": None, "error": None, "ms": round(elapsed, 1)}
    if isinstance(outcome, int):
        attempt["status"] = outcome
        delivery.status, delivery.delivered_at, delivery.reason = "delivered", now, None
    else:
        attempt["status"], attempt["error"] = outcome.status, outcome.message[:300]
        if outcome.status == 410:
            delivery.status, delivery.reason = "cancelled", "the target answered 410 Gone: the hook was removed"
            remove(hook, "the target answered 410 Gone", now)
        elif outcome.retryable and delivery.attempts < current_app.config["HOOK_MAX_ATTEMPTS"]:
            pause = timedelta(seconds=30 * 2 ** (delivery.attempts - 1))
            if outcome.retry_after is not None:
                pause = timedelta(seconds=outcome.retry_after)
            delivery.status, delivery.due_at = "pending", now + min(pause, MAX_PAUSE)
            delivery.reason = f"retrying after: {outcome.message}"[:500]
        else:
            delivery.status, delivery.reason = "failed", f"{outcome.kind}: {outcome.message}"[:500]
    delivery.history = [*delivery.history, attempt][-HISTORY:]
