"""Polling a connected status source (Atomic's Company Search) while maintenance dropoffs wait on a service.

Each waiting service is looked up first `first_poll_seconds` after it is seen, then after twice as long each
time it is still under maintenance, up to `max_poll_seconds`; once it is operational its dropoffs are
released, as `service-status` releases them. The schedule is kept in the connection's cursor.
"""

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select, update

from connectors.errors import ConnectorError
from reengage import connections
from reengage.detection import services
from reengage.jobs import job
from reengage.links.provider import of_kind
from reengage.models import Connection
from reengage.platform import db


def due_polls(at: datetime) -> list[int]:
    """Status connections with a look-up due (or never scheduled)."""
    found = db.session().execute(select(Connection.id, Connection.cursor).where(
        Connection.provider.in_(of_kind("status")), Connection.status != "broken")).all() if of_kind("status") else []
    db.session().commit()
    return [connection_id for connection_id, cursor in found if (cursor or {}).get("next_poll_at") is None
            or datetime.fromisoformat(cursor["next_poll_at"]).astimezone(UTC) <= at]


@job
def poll_services(connection_id: int) -> int:
    """Look up the due services its account's maintenance dropoffs wait on; answer how many were released."""
    db_session = db.session()
    connection = db_session.get(Connection, connection_id)
    link = connections.linked(connection.account_id, connection.provider) if connection else None
    if link is None:
        return 0
    now, released, passing = db.utcnow(), 0, None
    waiting = services.waiting(link.account_id)
    db_session.commit()
    schedule: dict[str, Any] = {name: state for name, state in (link.cursor.get("services") or {}).items()
                                if name in waiting}
    first, longest = int(link.settings.get("first_poll_seconds", 60)), int(link.settings.get("max_poll_seconds", 3600))
    client = connections.client(link)
    for service in waiting:
        state = schedule.get(service)
        if state is None:
            schedule[service] = {"next_at": (now + timedelta(seconds=first)).isoformat(), "delay": first}
            continue
        if datetime.fromisoformat(state["next_at"]) > now:
            continue
        try:
            found = connections.call(link, partial(client.status, service))
        except ConnectorError as error:
            passing, found = (error if error.retryable else passing), None
        if found == "operational":
            with db.transaction():
                released += services.record(link.account_id, service, "operational", now)
            schedule.pop(service)
            continue
        delay = min(longest, state["delay"] * 2)
        schedule[service] = {"next_at": (now + timedelta(seconds=delay)).isoformat(), "delay": delay}
    soonest = min((state["next_at"] for state in schedule.values()), default=None)
    next_poll = soonest or (now + timedelta(seconds=first)).isoformat()
    with db.transaction() as session:
        stored = dict(session.get_one(Connection, connection_id).cursor or {})
        session.execute(update(Connection).where(Connection.id == connection_id).values(
            cursor={**stored, "services": schedule, "next_poll_at": next_poll}))
    if passing is not None and not released:
        raise passing
    return released
