"""Each dropoff's tally of its messages, kept as they are sent and engaged with.

Metrics grouped by a dropoff's own dimensions then read one row per dropoff instead of every
message: how many of its messages went, were delivered, opened and clicked, what they cost, how
long after detection the first one went, and whether any was opened or clicked. The counters move
by SQL increments, so concurrent senders and webhooks never overwrite one another.
"""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import bindparam, func, select, update

from reengage import db
from reengage.models import Account, Dropoff, Enrollment, Message
from reengage.schedule import effective

DROPOFFS = Dropoff.__table__
COUNTERS = {"delivered_at": "messages_delivered", "opened_at": "messages_opened", "clicked_at": "messages_clicked"}
ENGAGING = ("opened_at", "clicked_at")


def sent(messages: list[Message], now: datetime) -> None:
    """Price each message that just went at its account's cost for the channel, and count it on its dropoff."""
    if not messages:
        return
    session = db.session()
    costs = {account.id: effective(account.settings, None)["metrics"]["costs"] for account in session.scalars(
        select(Account).where(Account.id.in_({m.account_id for m in messages})))}
    dropoff_of = dict(session.execute(select(Enrollment.id, Enrollment.dropoff_id).where(
        Enrollment.id.in_({m.enrollment_id for m in messages}), Enrollment.dropoff_id.is_not(None))).all())
    tallies: dict[int, list] = defaultdict(lambda: [0, Decimal(0)])
    for message in messages:
        message.cost = Decimal(str(costs[message.account_id].get(message.channel, 0)))
        if message.enrollment_id in dropoff_of:
            tally = tallies[dropoff_of[message.enrollment_id]]
            tally[0] += 1
            tally[1] += message.cost
    if not tallies:
        return
    detected = dict(session.execute(select(Dropoff.id, Dropoff.detected_at).where(Dropoff.id.in_(tallies))).all())
    session.connection().execute(
        update(DROPOFFS).where(DROPOFFS.c.id == bindparam("dropoff")).values(
            messages_sent=DROPOFFS.c.messages_sent + bindparam("count"),
            message_cost=DROPOFFS.c.message_cost + bindparam("cost"),
            first_touch_seconds=func.coalesce(DROPOFFS.c.first_touch_seconds, bindparam("seconds"))),
        [{"dropoff": dropoff_id, "count": count, "cost": cost,
          "seconds": (now - detected[dropoff_id]).total_seconds()}
         for dropoff_id, (count, cost) in tallies.items()])


def reached(message: Message, columns: list[str]) -> None:
    """Count a sent message's newly set `delivered_at`/`opened_at`/`clicked_at` on its dropoff."""
    if message.sent_at is None or not columns:
        return
    values = {COUNTERS[column]: DROPOFFS.c[COUNTERS[column]] + 1 for column in columns}
    if any(column in ENGAGING for column in columns):
        values["re_engaged"] = True
    dropoff = select(Enrollment.dropoff_id).where(Enrollment.id == message.enrollment_id).scalar_subquery()
    db.session().connection().execute(update(DROPOFFS).where(DROPOFFS.c.id == dropoff).values(**values))
