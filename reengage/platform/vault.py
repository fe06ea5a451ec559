"""Secrets at rest: connection credentials sealed with Fernet under a key derived from SECRET_KEY.

During a rotation (SECRET_KEY="new,old") values are sealed under the newest key and opened under any of them;
`reseal` moves a stored value to the newest key, so that the old one can then be dropped.
"""

import base64
import functools
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

# Binds the derived key to this use: the same SECRET_KEY signs unsubscribe links with another key.
PURPOSE = b"reengage connection credentials v1"


class SealedError(Exception):
    """Sealed credentials that this server's SECRET_KEY cannot open (the key changed)."""


@functools.lru_cache(maxsize=16)
def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _keys() -> MultiFernet:
    """The newest key first (it seals), then the older ones (they still open)."""
    config = current_app.config
    return MultiFernet([_fernet(key) for key in (config["SECRET_KEY"], *config.get("SECRET_KEY_FALLBACKS", ()))])


def seal(values: dict[str, Any]) -> str:
    """`values` encrypted and authenticated, as text for a column."""
    return _keys().encrypt(json.dumps(values).encode()).decode()


def unseal(token: str | None) -> dict[str, Any]:
    """What `seal` was given; {} for nothing sealed."""
    if not token:
        return {}
    try:
        return json.loads(_keys().decrypt(token.encode()))
    except InvalidToken:
        raise SealedError("the stored credentials were sealed under another SECRET_KEY; enter them again") from None


def reseal(token: str) -> str:
    """`token` sealed again under the newest key (raises SealedError when no key opens it)."""
    try:
        return _keys().rotate(token.encode()).decode()
    except InvalidToken:
        raise SealedError("sealed under a SECRET_KEY this server no longer has") from None
