"""Every polling trigger, in one place: each module declares its items and the query that lists them."""

from flask import Flask, g
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from reengage.models import Account
from reengage.platform import db
from triggers import (
    contact_engaged,
    contact_recovered,
    dropoff_detected,
    escalation_raised,
    message_due,
    polling,
    winback_ready,
)
from triggers.polling import Trigger

# Items rendered at a time when every stored item is kept at once.
BACKFILL_CHUNK = 500

TRIGGERS: dict[str, Trigger] = {trigger.key: trigger for trigger in (
    dropoff_detected.TRIGGER, message_due.TRIGGER, contact_recovered.TRIGGER, contact_engaged.TRIGGER,
    winback_ready.TRIGGER, escalation_raised.TRIGGER)}


def backfill(connection: Connection) -> None:
    """Keep every item of every trigger as it is now (the migration that began keeping them does this once)."""
    accounts = list(connection.scalars(select(Account.__table__.c.id)))
    with Flask(__name__).app_context():
        g.db_session = Session(bind=connection)
        now = db.utcnow()
        for trigger in TRIGGERS.values():
            item_id = trigger.order[1]
            for account_id in accounts:
                last = None
                while True:
                    query = trigger.query(account_id).order_by(item_id).limit(BACKFILL_CHUNK)
                    ids = list(connection.scalars(query if last is None else query.where(item_id > last)))
                    if not ids:
                        break
                    polling.store(trigger, account_id, trigger.render(ids), now)
                    last = ids[-1]
