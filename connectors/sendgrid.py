"""SendGrid v3 with the official SDK's mail, host and headers: send mail, check a key. No business logic.

The SDK's HTTP client (python-http-client) builds a urllib opener and opens a new connection for every call;
at a few hundred sends a second that is most of a send's CPU. Requests go instead over urllib3's pooled,
kept-alive connections (one pool manager per process, shared by every account: credentials go per request),
to the SDK's host (its data residency) with its default headers, and SendGrid's errors are raised as the
SDK's own exception types. A proxy named by the environment (`HTTPS_PROXY`, `NO_PROXY`) is used as urllib
would use it.
"""

import json
import os
import threading
import time
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import certifi
import urllib3
from python_http_client.exceptions import HTTPError, err_dict
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Mail
from urllib3.exceptions import HTTPError as TransportError

from connectors.errors import ConnectorError, kind_of

REGIONS = ("global", "eu")
# Connections kept open per host and process: as many sends as may be in flight at once in one worker.
POOL_SIZE = 64
_pools: dict[tuple[int, str, str], urllib3.PoolManager] = {}
_pools_lock = threading.Lock()


def pool(url: str) -> urllib3.PoolManager:
    """This process's kept-alive connections to `url`'s host, through the proxy the environment names, if any."""
    parts = urlsplit(url)
    key = (os.getpid(), parts.scheme, parts.hostname or "")  # a forked worker opens its own
    with _pools_lock:
        if key not in _pools:
            bypass = urllib.request.proxy_bypass(parts.hostname or "")
            proxy = None if bypass else urllib.request.getproxies().get(parts.scheme)
            settings: dict[str, Any] = {"num_pools": 4, "maxsize": POOL_SIZE, "retries": False,
                                        "ca_certs": certifi.where()}
            _pools[key] = urllib3.ProxyManager(proxy, **settings) if proxy else urllib3.PoolManager(**settings)
        return _pools[key]


class SendGrid:
    """One account's SendGrid API key, in one region (or against `host`, a local stand-in)."""

    def __init__(self, api_key: str, region: str = "global", host: str | None = None, timeout: float = 10.0):
        api = SendGridAPIClient(api_key, host=host) if host else SendGridAPIClient(api_key)
        if region != "global" and not host:
            api.set_sendgrid_data_residency(region)
        self.host, self._headers, self._timeout = api.host.rstrip("/"), api._default_headers, timeout

    def send(self, mail: Mail) -> str | None:
        """Hand `mail` to SendGrid; answer its `X-Message-ID` (absent in sandbox mode)."""
        return self._call("POST", "/v3/mail/send", mail.get()).headers.get("X-Message-ID")

    def check(self) -> list[str]:
        """Raise unless the key works; answer the key's scopes."""
        response = self._call("GET", "/v3/scopes")
        return list(json.loads(response.data or b"{}").get("scopes", []))

    def _call(self, method: str, path: str, body: Any = None) -> urllib3.BaseHTTPResponse:
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        url = self.host + path
        try:
            # Never retried here: a mail whose answer was lost may have gone; the caller decides.
            response = pool(url).request(method, url, body=None if body is None else json.dumps(body).encode(),
                                         headers=headers, timeout=urllib3.Timeout(total=self._timeout),
                                         redirect=False)
        except (TimeoutError, ConnectionError, TransportError) as error:
            raise ConnectorError("transient", f"SendGrid could not be reached: {error}") from None
        if response.status >= 400:
            raise _error(err_dict.get(response.status, HTTPError)(response.status, response.reason, response.data,
                                                                   response.headers))
        return response


def _error(error: HTTPError) -> ConnectorError:
    status, headers = error.status_code, error.headers or {}
    detail = _detail(error.body)
    kind = kind_of(status)
    wait = None
    if kind == "rate_limited":
        reset = headers.get("X-RateLimit-Reset")
        wait = max(1.0, float(reset) - time.time()) if reset and reset.isdigit() else 60.0
    messages = {"config": "SendGrid refused the API key", "rate_limited": "SendGrid's rate limit was reached",
                "transient": "SendGrid failed", "permanent": "SendGrid refused the message"}
    return ConnectorError(kind, f"{messages[kind]} ({status}){': ' + detail if detail else ''}", wait, status)


def _detail(body: bytes | str | None) -> str:
    """SendGrid's own error messages, joined; never the request (it holds addresses)."""
    try:
        errors = json.loads(body or b"{}").get("errors") or []
    except (ValueError, AttributeError):
        return ""
    return "; ".join(str(item.get("message", ""))[:200] for item in errors if isinstance(item, dict))[:400]
