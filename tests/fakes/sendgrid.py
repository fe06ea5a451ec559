"""A local SendGrid v3: mail send answers 202 with X-Message-ID, rate-limit headers, SendGrid's error bodies."""

import itertools
import time

from tests.fakes.server import FakeServer, Recorded, Reply

UNAUTHORIZED = {"errors": [{"field": None, "help": None,
                            "message": "The provided authorization grant is invalid, expired, or revoked"}]}


class FakeSendGrid(FakeServer):
    ROUTES = (("POST", r"/v3/mail/send", "send"), ("GET", r"/v3/scopes", "scopes"))
    PROTOCOL = "HTTP/1.1"

    def __init__(self, api_key: str = "SG.test-key.abcdefghij", latency: float = 0.0):
        self.api_key, self._ids = api_key, itertools.count(1)
        super().__init__(latency=latency)

    @staticmethod
    def limits(remaining: int = 599) -> dict[str, str]:
        return {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": str(int(time.time()) + 60)}

    def refuse(self, recorded: Recorded) -> Reply | None:
        if recorded.headers.get("Authorization") != f"Bearer {self.api_key}":
            return Reply(401, UNAUTHORIZED)
        return None

    def send(self, recorded: Recorded) -> Reply:
        body = recorded.json or {}
        if not body.get("personalizations") or not body.get("from"):
            return Reply(400, {"errors": [{"field": "personalizations", "message": "The personalizations field is "
                                           "required and must have at least one personalization.", "help": None}]})
        return Reply(202, None, {"X-Message-ID": f"fake-{next(self._ids):06d}", **self.limits()})

    def scopes(self, recorded: Recorded) -> Reply:
        return Reply(200, {"scopes": ["mail.send", "user.profile.read"]}, self.limits())

    @property
    def sent(self) -> list[dict]:
        """The bodies of every accepted mail send."""
        return [r.json for r in self.made("POST", r"/v3/mail/send")]
