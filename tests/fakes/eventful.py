"""Slow, eventful partners: a SendGrid that counts every POST by our message id and posts its Event Webhook back,
and a REST hook target that answers late. For runs where workers are killed midway (tests/support/chaos.py)."""

import itertools
import json
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable

from tests.fakes.receiver import FakeReceiver
from tests.fakes.sendgrid import FakeSendGrid
from tests.fakes.server import Recorded, Reply


def quiet(fake) -> None:
    """No traceback when a client killed midway has gone before its answer is written."""
    fake._server.handle_error = lambda request, address: None


class EventfulSendGrid(FakeSendGrid):
    """Answers after `delay(message id)` seconds; the first POST of each id in `refuse_once` gets a 429 (its reset
    a second away); every accepted mail gets `processed` then `delivered` (or `dropped`, for ids in `drop`)
    events, POSTed in batches to `webhook_url` as SendGrid's Event Webhook does."""

    def __init__(self, delay: Callable[[int], float] = lambda _: 0.0, refuse_once: frozenset[int] = frozenset(),
                 drop: frozenset[int] = frozenset()):
        self.delay, self.refuse_once, self.drop = delay, set(refuse_once), drop
        self.posts: Counter[int] = Counter()  # every POST of each message id
        self.total = 0  # every POST, readable while the server runs
        self.accepted: Counter[int] = Counter()  # POSTs answered 202
        self.dropped: set[int] = set()
        self.webhook_url: str | None = None
        self._pending: list[dict] = []
        self._event_ids = itertools.count(1)
        self._stop = threading.Event()
        super().__init__()
        quiet(self)
        self._poster = threading.Thread(target=self._post_events, daemon=True)
        self._poster.start()

    def _answer(self, recorded: Recorded) -> Reply:
        message_id = self._message_id(recorded)
        if message_id is not None:
            time.sleep(self.delay(message_id))  # outside the server's lock: slow answers overlap
        return super()._answer(recorded)

    @staticmethod
    def _message_id(recorded: Recorded) -> int | None:
        if not recorded.path.startswith("/v3/mail/send"):
            return None
        return int(((recorded.json or {}).get("custom_args") or {}).get("reengage_message_id", 0)) or None

    def send(self, recorded: Recorded) -> Reply:
        message_id = self._message_id(recorded)
        self.posts[message_id] += 1
        self.total += 1
        if message_id in self.refuse_once:
            self.refuse_once.discard(message_id)
            return Reply(429, {"errors": [{"message": "too many requests"}]},
                         {**self.limits(0), "X-RateLimit-Reset": str(int(time.time()) + 1)})
        reply = super().send(recorded)
        if reply.status == 202:
            self.accepted[message_id] += 1
            outcome = "dropped" if message_id in self.drop else "delivered"
            if outcome == "dropped":
                self.dropped.add(message_id)
            args = recorded.json.get("custom_args") or {}
            self._pending += [self._event(kind, reply.headers["X-Message-ID"], args) for kind in ("processed", outcome)]
        return reply

    def _event(self, kind: str, x_message_id: str, args: dict) -> dict:
        event = {"email": "someone@example.com", "timestamp": int(time.time()), "event": kind,
                 "sg_event_id": f"sg-{next(self._event_ids)}", "sg_message_id": f"{x_message_id}.filter0001.0", **args}
        return {**event, "reason": "Invalid address"} if kind == "dropped" else event

    def _post_events(self) -> None:
        while not self._stop.wait(1.0):
            self.flush()

    def flush(self) -> None:
        """Post the events waiting (SendGrid retries a batch that failed, so this does too)."""
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch or not self.webhook_url:
            with self._lock:
                self._pending = batch + self._pending
            return
        request = urllib.request.Request(self.webhook_url, data=json.dumps(batch).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(request, timeout=30).read()
        except OSError:
            with self._lock:
                self._pending = batch + self._pending

    def close(self) -> None:
        self._stop.set()
        super().close()


class SlowReceiver(FakeReceiver):
    """A REST hook target that answers 200 after `delay` seconds, counting the POSTs of each delivery id."""

    def __init__(self, delay: float):
        self.delay, self.posts, self.waiting = delay, Counter(), 0
        super().__init__()
        quiet(self)

    def _answer(self, recorded: Recorded) -> Reply:
        with self._lock:
            self.posts[int(recorded.headers.get("Reengage-Delivery", 0))] += 1  # a POST counts once it arrives
            self.waiting += 1
        try:
            time.sleep(self.delay)
        finally:
            with self._lock:
                self.waiting -= 1
        return super()._answer(recorded)
