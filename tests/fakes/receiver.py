"""A local REST hook target: takes every POST with 200 unless a test scripts another answer."""

from tests.fakes.server import FakeServer, Recorded, Reply


class FakeReceiver(FakeServer):
    ROUTES = (("POST", r"/.*", "take"),)

    def take(self, recorded: Recorded) -> Reply:
        return Reply(200, {"status": "success"})

    @property
    def items(self) -> list[dict]:
        """The bodies posted so far."""
        return [r.json for r in self.requests if r.method == "POST"]
