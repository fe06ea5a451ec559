"""One-click unsubscribe links: signed tokens naming the account, contact and channel."""

from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "reengage.unsubscribe"


def _serializer() -> URLSafeSerializer:
    # itsdangerous takes keys oldest first and signs with the last; links signed under an older key still work.
    return _keyed((*reversed(current_app.config.get("SECRET_KEY_FALLBACKS", ())), current_app.config["SECRET_KEY"]))


@lru_cache(maxsize=8)
def _keyed(keys: tuple[str, ...]) -> URLSafeSerializer:
    """One serializer per set of keys: a send signs a link per message, and building one derives its keys anew."""
    return URLSafeSerializer(list(keys), salt=SALT)


def token(account_id: int, contact_id: int, channel: str, message_id: int | None = None) -> str:
    """A token that unsubscribes this contact from `channel`; it does not expire, as emails are read late."""
    return _serializer().dumps([account_id, contact_id, channel, message_id])


def url(account_id: int, contact_id: int, channel: str, message_id: int | None = None) -> str:
    """The public unsubscribe link for a token."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return f"{base}/u/{token(account_id, contact_id, channel, message_id)}"


def read(raw: str) -> tuple[int, int, str, int | None] | None:
    """(account id, contact id, channel, message id) of a token, or None when it is not one of ours."""
    try:
        account_id, contact_id, channel, message_id = _serializer().loads(raw)
    except (BadSignature, ValueError, TypeError):
        return None
    return int(account_id), int(contact_id), str(channel), message_id
