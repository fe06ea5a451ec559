"""The four ways a call to an outside service fails, whatever the service."""

import time
from email.utils import parsedate_to_datetime

# config: a credential or setting is wrong (do not retry); rate_limited: retry after a pause;
# transient: a 5xx or a timeout (retry with backoff); permanent: the request itself is refused.
KINDS = ("config", "rate_limited", "transient", "permanent")


class ConnectorError(Exception):
    """A failed call, of one of KINDS; `retry_after` in seconds when the service said how long to wait."""

    def __init__(self, kind: str, message: str, retry_after: float | None = None, status: int | None = None):
        if kind not in KINDS:
            raise ValueError(f"unknown failure kind {kind!r}")
        super().__init__(message)
        self.kind, self.message, self.retry_after, self.status = kind, message, retry_after, status

    @property
    def retryable(self) -> bool:
        return self.kind in ("rate_limited", "transient")


def kind_of(status: int) -> str:
    """The failure kind of an HTTP status that is not a success."""
    if status in (401, 403):
        return "config"
    if status == 429:
        return "rate_limited"
    if status >= 500 or status in (408, 409, 425):
        return "transient"
    return "permanent"


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
