"""Event processing made to look lost, as after a crash."""

from datetime import timedelta

from sqlalchemy import update

from reengage.models import Event
from reengage.platform import db


def lose_processing(app, age: timedelta) -> None:
    """As if the job for every event was lost `age` ago (a crash, a flushed Redis)."""
    with app.app_context(), db.transaction() as db_session:
        db_session.execute(update(Event).values(processed_at=None, received_at=db.utcnow() - age))
