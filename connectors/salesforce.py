"""Salesforce through simple-salesforce: an OAuth login (refresh token or JWT bearer), SOQL queries paged by
`nextRecordsUrl`, and sObject create and update.

Thin: each method is one call, answers plain data, and turns failures into ConnectorError. A 401 is met
once with a fresh login; a refused login or a 401/403 after it is a config error, except
REQUEST_LIMIT_EXCEEDED (the org's daily API limit), which is rate limited; 5xx and transport failures are
transient; other 4xx permanent. Every answer's `Sforce-Limit-Info` (`api-usage=used/total`) is kept: once
the usage reaches the share kept in reserve for the org's other integrations, calls stop as rate limited.
"""

import time
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from simple_salesforce import Salesforce as Sdk
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession

from connectors.errors import ConnectorError, kind_of

LOGIN, SANDBOX_LOGIN = "https://login.salesforce.com", "https://test.salesforce.com"
DEFAULT_VERSION = "59.0"
JWT_SECONDS = 180
LIMIT_CODES = ("REQUEST_LIMIT_EXCEEDED", "API_LIMIT_EXCEEDED")


@dataclass(frozen=True)
class Credentials:
    """A connected app's consumer key, with a refresh token (and secret) or a user and private key (JWT)."""

    client_id: str
    client_secret: str | None = None
    refresh_token: str | None = None
    username: str | None = None
    private_key: str | None = None


class _Session(requests.Session):
    """Every call with a timeout, and the API usage Salesforce reports noted."""

    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout
        self.usage: tuple[int, int] | None = None
        self.hooks["response"].append(self._note)

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)

    def _note(self, response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        found = Sdk.parse_api_usage(response.headers.get("Sforce-Limit-Info") or "").get("api-usage")
        if found is not None:
            self.usage = (found.used, found.total)


class Salesforce:
    """One org, logged in on first use at `login_url` (a local stand-in in tests)."""

    def __init__(self, credentials: Credentials, login_url: str = LOGIN, version: str = DEFAULT_VERSION,
                 timeout: float = 10.0, reserve: float = 0.1):
        self._credentials, self._login_url, self._version = credentials, login_url.rstrip("/"), version
        self._session, self._reserve = _Session(timeout), reserve
        self._sdk: Sdk | None = None

    @property
    def usage(self) -> tuple[int, int] | None:
        """(calls used, daily limit) as Salesforce last reported them."""
        return self._session.usage

    def check(self) -> None:
        """Raise unless the credentials log in and can read opportunities."""
        self.query("SELECT Id FROM Opportunity LIMIT 1")

    def query(self, soql: str) -> dict[str, Any]:
        """The first page of a SOQL query: `records`, `done`, `nextRecordsUrl`."""
        return self._call(lambda sdk: sdk.query(soql))

    def query_more(self, next_url: str) -> dict[str, Any]:
        """The page at a `nextRecordsUrl`."""
        return self._call(lambda sdk: sdk.query_more(next_url, identifier_is_url=True))

    def create(self, sobject: str, data: dict[str, Any]) -> str:
        """Create a record; answer its id."""
        return str(self._call(lambda sdk: getattr(sdk, sobject).create(data))["id"])

    def update(self, sobject: str, record_id: str, data: dict[str, Any]) -> None:
        """Change fields of a record."""
        self._call(lambda sdk: getattr(sdk, sobject).update(record_id, data))

    def _call(self, work: Any) -> Any:
        used = self._session.usage
        if used and used[1] and used[0] >= used[1] * (1 - self._reserve):
            raise ConnectorError("rate_limited", f"Salesforce API usage is {used[0]} of {used[1]} calls a day; the "
                                                 f"rest is kept for the org's other integrations")
        for attempt in (1, 2):
            try:
                return work(self._login())
            except SalesforceExpiredSession:
                self._sdk = None  # the access token expired or was revoked: log in once more
                if attempt == 2:
                    raise ConnectorError("config", "Salesforce refused the session after a fresh login",
                                         status=401) from None
            except SalesforceError as error:
                raise _error(error) from None
            except requests.RequestException as error:
                raise ConnectorError("transient", f"Salesforce could not be reached: {type(error).__name__}") from None

    def _login(self) -> Sdk:
        if self._sdk is None:
            token = self._token()
            self._sdk = Sdk(instance_url=token["instance_url"], session_id=token["access_token"],
                            version=self._version, session=self._session)
        return self._sdk

    def _token(self) -> dict[str, Any]:
        """An access token and the instance to call, from the OAuth token endpoint."""
        given = self._credentials
        if given.private_key and given.username:
            claims = {"iss": given.client_id, "sub": given.username, "aud": self._login_url,
                      "exp": int(time.time()) + JWT_SECONDS}
            try:
                assertion = jwt.encode(claims, given.private_key, algorithm="RS256")
            except (ValueError, TypeError, jwt.PyJWTError) as error:
                raise ConnectorError("config", f"The private key cannot sign: {error}") from None
            form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
        elif given.refresh_token:
            form = {"grant_type": "refresh_token", "refresh_token": given.refresh_token, "client_id": given.client_id}
            if given.client_secret:
                form["client_secret"] = given.client_secret
        else:
            raise ConnectorError("config", "Give a refresh_token, or a username and private_key (JWT bearer)")
        try:
            answer = self._session.post(f"{self._login_url}/services/oauth2/token", data=form)
        except requests.RequestException as error:
            raise ConnectorError("transient", f"Salesforce's login could not be reached: {type(error).__name__}") \
                from None
        body = _body(answer)
        if answer.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            described = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
            kind = "transient" if answer.status_code >= 500 else "config"
            raise ConnectorError(kind, f"Salesforce refused the login: {described or answer.status_code}",
                                 status=answer.status_code)
        return body


def _body(answer: requests.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None


def _error(error: SalesforceError) -> ConnectorError:
    """Salesforce's error body is a list of `{"message", "errorCode"}`."""
    first: Any = error.content[0] if isinstance(error.content, list) and error.content else {}
    code = first.get("errorCode", "") if isinstance(first, dict) else ""
    message = first.get("message", "") if isinstance(first, dict) else str(error.content)[:300]
    kind = "rate_limited" if code in LIMIT_CODES else kind_of(error.status)
    return ConnectorError(kind, f"Salesforce answered {error.status} {code}: {message}".strip(), status=error.status)
