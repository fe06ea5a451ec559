"""Atomic Transact's Company Search: whether a company (a payroll provider) is operational or under maintenance.

Thin: one call, plain data out, failures as ConnectorError. The hosts, the path, the credential headers and
the shape of the answer (`data`: companies with `_id`, `name`, `status`) are *unconfirmed* against Atomic's
documentation, so the host is configurable and the reading tolerant: a company is operational when its
`status` is one of the connection's operational values.
"""

from typing import Any

import requests

from connectors.errors import ConnectorError, kind_of, retry_after

PRODUCTION, SANDBOX = "https://api.atomicfi.com", "https://sandbox-api.atomicfi.com"
SEARCH_PATH = "/company/search"


class Atomic:
    """One Atomic account's API key and secret, calling `host` (a local stand-in in tests)."""

    def __init__(self, api_key: str, api_secret: str | None, host: str = PRODUCTION, timeout: float = 10.0):
        self._headers = {"x-api-key": api_key, **({"x-api-secret": api_secret} if api_secret else {})}
        self._endpoint, self._timeout = host.rstrip("/") + SEARCH_PATH, timeout

    def search(self, query: str) -> list[dict[str, Any]]:
        """The companies Company Search finds for `query`."""
        try:
            answer = requests.post(self._endpoint, json={"query": query}, headers=self._headers,
                                   timeout=self._timeout)
        except requests.RequestException as error:
            raise ConnectorError("transient", f"Atomic could not be reached: {type(error).__name__}") from None
        if answer.status_code >= 300:
            try:
                message = answer.json().get("message") or answer.reason
            except (ValueError, AttributeError):
                message = answer.reason
            raise ConnectorError(kind_of(answer.status_code), f"Atomic answered {answer.status_code}: {message}",
                                 retry_after(answer.headers.get("Retry-After")), answer.status_code)
        try:
            found = answer.json().get("data")
        except (ValueError, AttributeError):
            found = None
        if not isinstance(found, list):
            raise ConnectorError("permanent", "Atomic's answer has no `data` list of companies")
        return [company for company in found if isinstance(company, dict)]
