"""Template renders refused as over their budget, counted per account.

The render budget (reengage.platform.sandbox) ends a template bomb after its steps or time, and the
request is answered 422 naming the field. An account that keeps sending such templates could still
keep the server's CPU busy with renders that run up to the budget each time. So each refusal counts
against TEMPLATE_REFUSAL_LIMIT per account; once it is spent, the account's requests that would render
a template are answered 429 with Retry-After before anything is rendered, until the window moves on.
A person fixing a template meets the 422s first; a message's template takes a small part of the
budget and never counts. Counted in Redis when REDIS_URL is set (every web process shares the count),
else in this process. Renders outside a request (sends in a worker) are never held back.
"""

from flask import Flask, g, has_request_context

from reengage.platform import sandbox
from reengage.platform.errors import ApiError
from reengage.web import counters

NAMESPACE = "template-refusals"


class RefusalLimit:
    """TEMPLATE_REFUSAL_LIMIT (limits' notation) per account, as a sandbox guard (see sandbox.budgeted)."""

    def __init__(self, limit: str, storage_uri: str | None):
        try:
            self.throttle = counters.Throttle(limit, storage_uri, NAMESPACE)
        except ValueError:
            raise RuntimeError(f"TEMPLATE_REFUSAL_LIMIT must be in limits' notation, not {limit!r}") from None
        self.text = limit

    def before(self) -> None:
        """Refuse (429) a render for an account whose refusals are spent."""
        account = _account()
        wait = 0 if account is None else self.throttle.wait(account)
        if wait:
            raise ApiError(429, "rate_limited", (
                f"Too many templates over the render budget for this account (the limit is {self.text}); fix the "
                f"template and try again after Retry-After seconds."), headers={"Retry-After": str(wait)})

    def refused(self) -> None:
        """Count a render refused as over its budget."""
        account = _account()
        if account is not None:
            self.throttle.hit(account)


def _account() -> str | None:
    """The account the current request acts for, if it is a request of a signed-in caller."""
    if not has_request_context():
        return None
    caller = g.get("caller")
    return None if caller is None else str(caller.account_id)


def init_app(app: Flask) -> None:
    """Count the app's refused renders per account, and hold back an account's renders once they pass the limit."""
    app.extensions[sandbox.GUARD] = RefusalLimit(app.config["TEMPLATE_REFUSAL_LIMIT"], app.config["REDIS_URL"])
