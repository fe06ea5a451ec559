"""Dashboard sessions: a random id in the signed cookie names a row on the server, so signing out ends
the session even for a copy of the cookie (failed sign-ins are bounded by reengage.web.counters.Throttle)."""

import hashlib
import secrets

from flask import current_app
from sqlalchemy import delete, select

from reengage.models import ApiKey, DashboardSession
from reengage.platform import auth, db


def open_session(prefix: str) -> str:
    """Record a session for the API key with this prefix; returns the id the cookie carries."""
    token = secrets.token_urlsafe(32)
    now = db.utcnow()
    with db.transaction() as db_session:
        # Expired sessions are only ever looked up to be refused: clear them as new ones open.
        db_session.execute(delete(DashboardSession).where(DashboardSession.expires_at <= now))
        key_id = db_session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix))
        db_session.add(DashboardSession(token_hash=_hash(token), api_key_id=key_id, created_at=now,
                                        expires_at=now + current_app.permanent_session_lifetime))
    return token


def caller_of(token: object) -> auth.Caller | None:
    """The account a live session acts for; None once it has ended, expired or its key was revoked."""
    if not isinstance(token, str) or not token:
        return None
    key = db.session().execute(select(ApiKey.prefix, ApiKey.key_hash).join(
        DashboardSession, DashboardSession.api_key_id == ApiKey.id).where(
        DashboardSession.token_hash == _hash(token), DashboardSession.expires_at > db.utcnow())).first()
    return None if key is None else auth.lookup(key.prefix, key.key_hash)


def close_session(token: object) -> None:
    """End the session: its cookie, wherever a copy of it is, signs no one in again."""
    if isinstance(token, str) and token:
        with db.transaction() as db_session:
            db_session.execute(delete(DashboardSession).where(DashboardSession.token_hash == _hash(token)))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
