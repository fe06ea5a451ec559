"""What every channel shares: the outcome of a delivery and the four kinds of failure."""

from dataclasses import dataclass

# config: a credential or setting is wrong (do not retry); rate_limited: retry after a pause;
# transient: a 5xx or a timeout (retry with backoff); permanent: the request itself is refused.
KINDS = ("config", "rate_limited", "transient", "permanent")


@dataclass(frozen=True)
class Delivery:
    """Where a message went and the provider's id for it."""

    provider: str
    provider_id: str | None = None


class ChannelError(Exception):
    """A delivery that failed, of one of KINDS; `retry_after` in seconds when the provider said."""

    def __init__(self, kind: str, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.kind, self.message, self.retry_after = kind, message, retry_after

    @property
    def retryable(self) -> bool:
        return self.kind in ("rate_limited", "transient")


def cta(step: dict, render) -> tuple[str, str]:
    """(label, url) of the step's call to action, rendered; empty when it has none."""
    if not step.get("cta"):
        return "", ""
    return step["cta"]["label"], render(step["cta"]["url"])
