"""SendGrid v3 through the official SDK: send mail, check a key. No business logic.

The SDK (python-http-client) opens a new connection for every call through urllib. Its Client leaves the one
request to be made to `_make_request` (documented as the place to substitute); ours makes it over a pooled,
kept-alive connection (a requests Session per host and process), so sends reuse their TCP and TLS connections.
"""

import json
import os
import threading
import time
from typing import Any
from urllib.error import URLError
from urllib.request import Request

import python_http_client
import requests
from python_http_client.exceptions import HTTPError, err_dict
from requests.adapters import HTTPAdapter
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Mail

from connectors.errors import ConnectorError, kind_of

REGIONS = ("global", "eu")
# Connections kept open per host and process: as many sends as may be in flight at once in one worker.
POOL_SIZE = 64
_sessions: dict[tuple[int, str], requests.Session] = {}
_sessions_lock = threading.Lock()


def session(host: str) -> requests.Session:
    """This process's kept-alive connections to `host` (shared by every account: credentials go per request)."""
    key = (os.getpid(), host)  # a forked worker opens its own
    with _sessions_lock:
        if key not in _sessions:
            pooled = requests.Session()
            pooled.mount(host, HTTPAdapter(pool_connections=1, pool_maxsize=POOL_SIZE))
            _sessions[key] = pooled
        return _sessions[key]


class _Answer:
    """A requests response as python-http-client reads one (getcode, read, info)."""

    def __init__(self, response: requests.Response):
        self._response = response

    def getcode(self) -> int:
        return self._response.status_code

    def read(self) -> bytes:
        return self._response.content

    def info(self) -> Any:
        return self._response.headers


class KeptAlive(python_http_client.Client):
    """python-http-client's Client, its requests made over `pooled` connections that stay open between calls."""

    def __init__(self, *args, pooled: requests.Session, **kwargs):
        super().__init__(*args, **kwargs)
        self._pooled = pooled

    def _build_client(self, name=None):
        url_path = [*self._url_path, name] if name else self._url_path
        return KeptAlive(host=self.host, version=self._version, request_headers=self.request_headers,
                         url_path=url_path, append_slash=self.append_slash, timeout=self.timeout, pooled=self._pooled)

    def _make_request(self, opener, request: Request, timeout=None):
        response = self._pooled.request(request.get_method(), request.full_url, data=request.data,
                                        headers=dict(request.header_items()), timeout=timeout or self.timeout,
                                        allow_redirects=False)
        if response.status_code >= 400:
            raise err_dict.get(response.status_code, HTTPError)(response.status_code, response.reason,
                                                                response.content, response.headers)
        return _Answer(response)


class SendGrid:
    """One account's SendGrid API key, in one region (or against `host`, a local stand-in)."""

    def __init__(self, api_key: str, region: str = "global", host: str | None = None, timeout: float = 10.0):
        self._api = SendGridAPIClient(api_key)
        if region != "global":
            self._api.set_sendgrid_data_residency(region)
        if host:
            self._api = SendGridAPIClient(api_key, host=host)
        self._api.client = KeptAlive(host=self._api.host, request_headers=self._api._default_headers, version=3,
                                     timeout=timeout, pooled=session(self._api.host))

    def send(self, mail: Mail) -> str | None:
        """Hand `mail` to SendGrid; answer its `X-Message-ID` (absent in sandbox mode)."""
        response = self._call(lambda: self._api.send(mail))
        return response.headers.get("X-Message-ID")

    def check(self) -> list[str]:
        """Raise unless the key works; answer the key's scopes."""
        response = self._call(lambda: self._api.client.scopes.get())
        return list(json.loads(response.body or b"{}").get("scopes", []))

    @staticmethod
    def _call(request):
        try:
            return request()
        except HTTPError as error:
            raise _error(error) from None
        except (TimeoutError, URLError, ConnectionError, requests.RequestException) as error:
            raise ConnectorError("transient", f"SendGrid could not be reached: {error}") from None


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
