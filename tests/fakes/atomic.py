"""A local Atomic Company Search: companies by name with their status, Atomic-style key headers."""

from tests.fakes.server import FakeServer, Recorded, Reply


class FakeAtomic(FakeServer):
    ROUTES = (("POST", r"/company/search", "search"),)

    def __init__(self, api_key: str, api_secret: str):
        self.api_key, self.api_secret = api_key, api_secret
        # company name -> its status
        self.companies: dict[str, str] = {}
        super().__init__()

    def refuse(self, recorded: Recorded) -> Reply | None:
        headers = {name.lower(): value for name, value in recorded.headers.items()}
        if headers.get("x-api-key") != self.api_key or headers.get("x-api-secret") != self.api_secret:
            return Reply(401, {"message": "Unauthorized"})
        return None

    def search(self, recorded: Recorded) -> Reply:
        query = str((recorded.json or {}).get("query", "")).lower()
        found = [{"_id": f"c-{n}", "name": name, "status": status}
                 for n, (name, status) in enumerate(self.companies.items(), start=1) if query in name.lower()]
        return Reply(200, {"data": found})
