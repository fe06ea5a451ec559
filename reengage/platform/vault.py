"""Secrets at rest: connection credentials sealed with Fernet under a key derived from SECRET_KEY."""

import base64
import functools
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

# Binds the derived key to this use: the same SECRET_KEY signs unsubscribe links with another key.
PURPOSE = b"reengage connection credentials v1"


class SealedError(Exception):
    """Sealed credentials that this server's SECRET_KEY cannot open (the key changed)."""


@functools.lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(values: dict[str, Any]) -> str:
    """`values` encrypted and authenticated, as text for a column."""
    return _fernet(current_app.config["SECRET_KEY"]).encrypt(json.dumps(values).encode()).decode()


def unseal(token: str | None) -> dict[str, Any]:
    """What `seal` was given; {} for nothing sealed."""
    if not token:
        return {}
    try:
        return json.loads(_fernet(current_app.config["SECRET_KEY"]).decrypt(token.encode()))
    except InvalidToken:
        raise SealedError("the stored credentials were sealed under another SECRET_KEY; enter them again") from None
