"""HubSpot's request signatures (X-HubSpot-Signature-v3, and v2/v1 where a connection allows them), checked
with HubSpot's own helper from hubspot-api-client."""

import time

from flask import request
from hubspot.exceptions import InvalidSignatureTimestampError, InvalidSignatureVersionError
from hubspot.utils.signature import Signature

from reengage import connections
from reengage.platform.errors import ApiError
from reengage.providers.hubspot.schemas import SIGNATURE_VERSIONS

DEFAULT_VERSIONS = ("v3",)


def verify(link: connections.Linked, also: tuple[str, ...] = ()) -> str | None:
    """The version of the request's valid signature (401 if invalid or of a version not accepted); None if unsigned.

    Accepted are the connection's `signature_versions` (v3 by default) and `also`; of several signatures the
    strongest accepted one is checked.
    """
    offered = _signatures()
    if not offered:
        return None
    accepted = {*link.settings.get("signature_versions", DEFAULT_VERSIONS), *also}
    version = next((v for v in SIGNATURE_VERSIONS if v in offered and v in accepted), None)
    if version is None:
        raise ApiError(401, "invalid_signature", f"This connection accepts signature versions "
                                                 f"{', '.join(sorted(accepted, reverse=True))}, not "
                                                 f"{', '.join(sorted(offered, reverse=True))} "
                                                 "(the connection's `signature_versions`).")
    _verify(link, version, offered[version])
    return version


def _signatures() -> dict[str, str]:
    """The signatures the request carries, by version (HubSpot may send a v3 and an older one together)."""
    found = {}
    if request.headers.get("X-HubSpot-Signature-v3"):
        found["v3"] = request.headers["X-HubSpot-Signature-v3"]
    if request.headers.get("X-HubSpot-Signature"):
        found[(request.headers.get("X-HubSpot-Signature-Version") or "v1").strip().lower()] = (
            request.headers["X-HubSpot-Signature"])
    return found


def _verify(link: connections.Linked, version: str, signature: str) -> None:
    """Check one signature with HubSpot's helper; a v3 timestamp must lie within 5 minutes either way."""
    secret = link.secrets.get("client_secret")
    if not secret:
        raise ApiError(401, "unauthorized", "Signed requests need the app's client_secret on the connection.")
    timestamp = request.headers.get("X-HubSpot-Request-Timestamp")
    # HubSpot's helper only refuses old timestamps; one from the future would make a capture replayable later.
    if version == "v3" and not _fresh(timestamp):
        raise _stale()
    try:
        valid = Signature.is_valid(signature=signature, client_secret=secret,
                                   request_body=request.get_data(as_text=True), http_uri=called_url(),
                                   http_method=request.method, signature_version=version, timestamp=timestamp)
    except InvalidSignatureTimestampError:
        raise _stale() from None
    except InvalidSignatureVersionError:
        raise ApiError(401, "invalid_signature", f"Unknown signature version {version!r}.") from None
    if not valid:
        raise ApiError(401, "invalid_signature", "The signature does not match this request and client secret.")


def _fresh(timestamp: str | None) -> bool:
    try:
        sent = int(timestamp or "") / 1000
    except ValueError:
        return False
    return abs(time.time() - sent) <= Signature.MAX_ALLOWED_TIMESTAMP


def _stale() -> ApiError:
    return ApiError(401, "stale_signature", "X-HubSpot-Request-Timestamp is missing or more than 5 minutes "
                                            "from now.")


def called_url() -> str:
    """The URL HubSpot called, as it saw it (behind a proxy, from the X-Forwarded-* headers)."""
    proto = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
    host = request.headers.get("X-Forwarded-Host", request.host).split(",")[0].strip()
    query = request.query_string.decode()
    return f"{proto}://{host}{request.path}" + (f"?{query}" if query else "")
