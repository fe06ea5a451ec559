"""Signed webhook POSTs to a URL a customer chose (REST hook targets), guarded against internal addresses.

Every request is signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature:
v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed by the base64 after the secret's `whsec_`), so a
receiver verifies it with a Standard Webhooks library. The older `Reengage-Signature: t=<unix seconds>,v1=<hex
HMAC-SHA256(secret, "<t>.<body>")>` is sent alongside for this release. Redirects are not followed: a target that
redirects could otherwise lead the request to an address the check below refused.
"""

import base64
import binascii
import hashlib
import hmac
import ipaddress
import socket
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

import requests

from connectors.errors import ConnectorError, kind_of, retry_after

SIGNATURE_HEADER = "Reengage-Signature"
SECRET_PREFIX = "whsec_"
USER_AGENT = "Reengage-Hooks/1.0"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# Counted as global by `ipaddress`, yet each carries an IPv4 address a gateway may forward to (NAT64,
# 6to4, IPv4-compatible), so a private address could hide inside one.
TUNNELS = tuple(ipaddress.ip_network(net) for net in ("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "::/96"))


def sign(secret: str, body: bytes, at: int | None = None) -> str:
    """The signature header's value for `body` sent at `at` (now by default)."""
    at = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def signing_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret (URL-safe base64, as secrets issued before 1.1 are, decodes too)."""
    text = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def standard_headers(secret: str, message_id: str, body: bytes, at: int | None = None) -> dict[str, str]:
    """The Standard Webhooks headers of `body`, sent as message `message_id` at `at` (now by default)."""
    at = int(time.time()) if at is None else at
    digest = hmac.new(signing_key(secret), f"{message_id}.{at}.".encode() + body, hashlib.sha256).digest()
    return {"webhook-id": message_id, "webhook-timestamp": str(at),
            "webhook-signature": f"v1,{base64.b64encode(digest).decode()}"}


def networks(allowed: Iterable[str]) -> tuple[Network, ...]:
    """Parse an allow-list of private networks (`10.0.0.0/8`, `127.0.0.1`); raises ValueError on a bad entry."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in allowed if entry.strip())


def check_target(url: str, require_https: bool, allowed: tuple[Network, ...]) -> None:
    """Refuse a URL that is not http(s), not https when required, or that resolves to a non-public address
    outside the allow-list (so a hook cannot reach internal services); raises ConnectorError(permanent)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConnectorError("permanent", "must be an http(s) URL with a host")
    if require_https and parts.scheme != "https":
        raise ConnectorError("permanent", "must use https")
    if parts.username or parts.password:
        raise ConnectorError("permanent", "must not carry a user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)}
    except (OSError, ValueError) as error:
        raise ConnectorError("permanent", f"its host {parts.hostname!r} cannot be resolved ({error})") from None
    for address in found:
        ip = ipaddress.ip_address(str(address).split("%")[0])
        if not _public(ip) and not any(ip in network for network in allowed):
            raise ConnectorError("permanent", f"its host resolves to {ip}, a private, reserved, multicast or "
                                              "tunnelled address; allow it with HOOK_ALLOWED_NETWORKS")


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A unicast address on the public internet, not a tunnel to an IPv4 one."""
    return ip.is_global and not ip.is_multicast and not any(ip in network for network in TUNNELS)


def post(url: str, body: bytes, secret: str, headers: dict[str, str], timeout: float, message_id: str) -> int:
    """POST `body` (JSON) as `message_id`, signed with `secret`; answer the 2xx status or raise ConnectorError
    (410 is permanent). Every attempt at one message carries the same `message_id`, so receivers can dedupe."""
    at = int(time.time())
    sent = {"Content-Type": "application/json", "User-Agent": USER_AGENT, SIGNATURE_HEADER: sign(secret, body, at),
            **standard_headers(secret, message_id, body, at), **headers}
    try:
        response = requests.post(url, data=body, headers=sent, timeout=timeout, allow_redirects=False)
    except requests.Timeout:
        raise ConnectorError("transient", f"no answer within {timeout:g} s") from None
    except requests.RequestException as error:
        raise ConnectorError("transient", f"could not connect: {type(error).__name__}") from None
    if 200 <= response.status_code < 300:
        return response.status_code
    if 300 <= response.status_code < 400:
        raise ConnectorError("permanent", f"answered {response.status_code}; redirects are not followed",
                             status=response.status_code)
    kind = kind_of(response.status_code)
    if kind == "config":
        kind = "permanent"  # a target refusing us is not a credential of ours to fix
    raise ConnectorError(kind, f"answered {response.status_code}: {response.text[:200]}",
                         retry_after(response.headers.get("Retry-After")), response.status_code)
