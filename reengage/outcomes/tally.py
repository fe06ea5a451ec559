"""Each dropoff's tally of its messages, kept as they are sent and engaged with, and the message its recovery
is credited to, chosen when it is recovered.

Metrics grouped by a dropoff's own dimensions then read one row per dropoff instead of every
message: how many of its messages went, were delivered, opened and clicked, what they cost, how
long after detection the first one went, and whether any was opened or clicked. The counters move
by SQL increments, so concurrent senders and webhooks never overwrite one another. Metrics by a
message's dimension, and the Contact Recovered trigger, read the credited message.
"""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, select, update

from reengage.models import Account, Dropoff, Enrollment, Message
from reengage.platform import db
from reengage.settings import metrics_of

DROPOFFS = Dropoff.__table__
COUNTERS = {"delivered_at": "messages_delivered", "opened_at": "messages_opened", "clicked_at": "messages_clicked",
            "machine_opened_at": "messages_machine_opened"}
ENGAGING = ("opened_at", "clicked_at")


def sent(messages: list[Message], now: datetime) -> None:
    """Price each message that just went at its account's cost for the channel, and count it on its dropoff."""
    if not messages:
        return
    session = db.session()
    # Read without writing the messages' pending changes first: with their cost they go in one UPDATE a message.
    with session.no_autoflush:
        costs = {account.id: metrics_of(account)["costs"] for account in session.scalars(
            select(Account).where(Account.id.in_({m.account_id for m in messages})))}
        enrolled = {m.enrollment_id for m in messages}
        dropoff_of = {row.id: (row.dropoff_id, row.detected_at) for row in session.execute(
            select(Enrollment.id, Enrollment.dropoff_id, Dropoff.detected_at)
            .join(Dropoff, Dropoff.id == Enrollment.dropoff_id).where(Enrollment.id.in_(enrolled)))}
    tallies: dict[int, list] = defaultdict(lambda: [0, Decimal(0)])
    detected = {}
    for message in messages:
        message.cost = Decimal(str(costs[message.account_id].get(message.channel, 0)))
        if message.enrollment_id in dropoff_of:
            dropoff_id, detected[dropoff_id] = dropoff_of[message.enrollment_id]
            tallies[dropoff_id][0] += 1
            tallies[dropoff_id][1] += message.cost
    if not tallies:
        return
    session.connection().execute(
        update(DROPOFFS).where(DROPOFFS.c.id == bindparam("dropoff")).values(
            messages_sent=DROPOFFS.c.messages_sent + bindparam("count"),
            message_cost=DROPOFFS.c.message_cost + bindparam("cost"),
            first_touch_seconds=func.coalesce(DROPOFFS.c.first_touch_seconds, bindparam("seconds"))),
        [{"dropoff": dropoff_id, "count": count, "cost": cost,
          "seconds": (now - detected[dropoff_id]).total_seconds()}
         for dropoff_id, (count, cost) in tallies.items()])


def reached(message: Message, columns: list[str]) -> None:
    """Count a sent message's newly set `delivered_at`/`opened_at`/`clicked_at`/`machine_opened_at` on its dropoff."""
    if message.sent_at is None or not columns:
        return
    values: dict[str, Any] = {COUNTERS[column]: DROPOFFS.c[COUNTERS[column]] + 1 for column in columns}
    if any(column in ENGAGING for column in columns):
        values["re_engaged"] = True
    dropoff = select(Enrollment.dropoff_id).where(Enrollment.id == message.enrollment_id).scalar_subquery()
    db.session().connection().execute(update(DROPOFFS).where(DROPOFFS.c.id == dropoff).values(**values))


def credit(dropoff: Dropoff, at: datetime) -> None:
    """Credit the recovery of `dropoff` at `at` to its last message sent at or before then, if that went within
    the account's attribution window (a later change of the window credits no recovery anew)."""
    session = db.session()
    last = session.execute(
        select(Message.id, Message.sent_at).join(Enrollment, Enrollment.id == Message.enrollment_id)
        .where(Enrollment.dropoff_id == dropoff.id, Message.sent_at.is_not(None), Message.sent_at <= at)
        .order_by(Message.sent_at.desc(), Message.id.desc()).limit(1)).first()
    if last is not None and at - last.sent_at <= metrics_of(session.get_one(Account, dropoff.account_id))[
            "attribution_window"]:
        dropoff.credited_message_id = last.id
