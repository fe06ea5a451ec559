"""API keys: minted once, stored hashed, checked on every /v1 request."""

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from flask import Flask, current_app, g, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from reengage.models import Account, ApiKey
from reengage.platform import db
from reengage.platform.errors import ApiError

# Every key starts with this, so a leaked key is easy to recognise (and to scan for).
KEY_PREFIX = "rk_"
PREFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(frozen=True)
class Caller:
    """The account a request acts for."""

    account_id: int
    account_name: str


def hash_key(key: str) -> str:
    """The stored form of a key. Keys carry 256 random bits, so a plain SHA-256 suffices."""
    return hashlib.sha256(key.encode()).hexdigest()


def mint_key(db_session: Session, account: Account, label: str | None = None) -> tuple[ApiKey, str]:
    """Create a key for `account`; the full key is returned here and never again."""
    prefix = "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(10))
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey(account=account, prefix=prefix, key_hash=hash_key(key), label=label)
    db_session.add(api_key)
    return api_key, key


def presented_key() -> str | None:
    """The key sent as `Authorization: Bearer <key>` or `X-API-Key: <key>`."""
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get("X-API-Key", "").strip() or None


class KeyCache:
    """Recently checked keys of this process, so a busy key costs no query per request.

    An entry lives `API_KEY_CACHE_SECONDS`, which bounds how long a revoked key keeps working
    in a process that saw it just before; 0 checks the database on every request.
    """

    MAX_ENTRIES = 10_000

    def __init__(self):
        self._entries: dict[str, tuple[float, Caller]] = {}
        self._lock = threading.Lock()

    def get(self, key_hash: str) -> Caller | None:
        entry = self._entries.get(key_hash)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key_hash: str, caller: Caller, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.MAX_ENTRIES:
                now = time.monotonic()
                self._entries = {k: v for k, v in self._entries.items() if v[0] >= now}
                if len(self._entries) >= self.MAX_ENTRIES:
                    self._entries.clear()
            self._entries[key_hash] = (time.monotonic() + seconds, caller)


def authenticate() -> None:
    """Resolve the caller's account or answer 401 (a `before_request` hook)."""
    if "caller" in g:  # already resolved in this request (the rate limit asks before the route does)
        return
    key = presented_key()
    if key is None:
        raise ApiError(401, "unauthorized", "Send your API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.")
    key_hash = hash_key(key)
    cache: KeyCache = current_app.extensions["api_keys"]
    caller = cache.get(key_hash)
    if caller is None:
        caller = _lookup(key, key_hash)
        if caller is not None:
            cache.put(key_hash, caller, current_app.config["API_KEY_CACHE_SECONDS"])
    if caller is None:
        raise ApiError(401, "unauthorized", "The API key is not valid or has been revoked.")
    g.caller = caller


def _lookup(key: str, key_hash: str) -> Caller | None:
    if not key.startswith(KEY_PREFIX):
        return None
    return lookup(prefix_of(key), key_hash)


def prefix_of(key: str) -> str:
    """The public prefix of a key in our format (`rk_<prefix>_<secret>`)."""
    return key[len(KEY_PREFIX):].partition("_")[0]


def lookup(prefix: str, key_hash: str) -> Caller | None:
    """The account of the live key with this prefix and hash, or None (unknown, revoked or wrong)."""
    query = (
        select(ApiKey.key_hash, ApiKey.revoked_at, Account.id, Account.name)
        .join(Account, Account.id == ApiKey.account_id)
        .where(ApiKey.prefix == prefix)
    )
    # Its own short connection, so the request's session starts clean (and can write at once).
    with db.engine().connect() as connection:
        row = connection.execute(query).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, key_hash):
        return None
    return Caller(row.id, row.name)


def account_id() -> int:
    """The id of the account the current request acts for."""
    return g.caller.account_id


def init_app(app: Flask) -> None:
    """Give the app its cache of checked keys."""
    app.extensions["api_keys"] = KeyCache()
