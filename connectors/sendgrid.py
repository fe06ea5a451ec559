"""SendGrid v3 through the official SDK: send mail, check a key. No business logic."""

import json
import time
from urllib.error import URLError

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Mail

from connectors.errors import ConnectorError, kind_of

REGIONS = ("global", "eu")


class SendGrid:
    """One account's SendGrid API key, in one region (or against `host`, a local stand-in)."""

    def __init__(self, api_key: str, region: str = "global", host: str | None = None, timeout: float = 10.0):
        self._api = SendGridAPIClient(api_key)
        if region != "global":
            self._api.set_sendgrid_data_residency(region)
        if host:
            self._api = SendGridAPIClient(api_key, host=host)
        self._api.client.timeout = timeout

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
        except (TimeoutError, URLError, ConnectionError) as error:
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
