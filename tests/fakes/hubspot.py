"""A local HubSpot: CRM v3 objects, search (with its 10,000-result cap), pipelines, v4 associations and workflow
callbacks (automation actions 2026-03), with HubSpot's rate-limit headers and error bodies."""

import itertools
from datetime import UTC, datetime

from tests.fakes.server import FakeServer, Recorded, Reply

STAMP = "2026-11-20T10:00:00.000Z"


def error(status: int, message: str, category: str, **extra) -> Reply:
    """HubSpot's error body."""
    return Reply(status, {"status": "error", "message": message, "correlationId": "0b8f3d4e-fake",
                          "category": category, **extra}, LIMITS)


LIMITS = {"X-HubSpot-RateLimit-Max": "190", "X-HubSpot-RateLimit-Remaining": "189",
          "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}
RATE_LIMITED = Reply(429, {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                           "errorType": "RATE_LIMIT", "correlationId": "c1e5-fake",
                           "policyName": "TEN_SECONDLY_ROLLING"},
                     {**LIMITS, "X-HubSpot-RateLimit-Remaining": "0", "Retry-After": "2"})


def record(object_id: str, properties: dict) -> dict:
    return {"id": object_id, "properties": properties, "createdAt": STAMP, "updatedAt": STAMP, "archived": False}


class FakeHubSpot(FakeServer):
    ROUTES = (
        ("GET", r"/crm/v3/objects/contacts", "contacts_page"),
        ("POST", r"/crm/v3/objects/contacts/search", "contacts_search"),
        ("PATCH", r"/crm/v3/objects/contacts/(\w+)", "contact_update"),
        ("POST", r"/crm/v3/objects/(notes|tasks)", "create"),
        ("GET", r"/crm/v3/pipelines/deals", "pipelines_page"),
        ("POST", r"/crm/v3/objects/deals/search", "deals_search"),
        ("GET", r"/crm/v3/objects/deals/(\w+)", "deal_get"),
        ("GET", r"/crm/v3/objects/companies/(\w+)", "company_get"),
        ("GET", r"/crm/v3/owners/(\w+)", "owner_get"),
        ("POST", r"/automation/actions/callbacks/2026-03/([\w-]+)/complete", "callback"),
    )

    def __init__(self, token: str = "pat-na1-test-token"):
        self.token, self._ids = token, itertools.count(9001)
        self.contacts: dict[str, dict] = {}
        self.pipelines = [{"id": "default", "label": "Sales", "stages": [
            {"id": "appointmentscheduled", "metadata": {"isClosed": "false", "probability": "0.2"}},
            {"id": "closedwon", "metadata": {"isClosed": "true", "probability": "1.0"}},
            {"id": "closedlost", "metadata": {"isClosed": "true", "probability": "0.0"}}]}]
        self.deals: list[dict] = []
        # HubSpot's search pages through 10,000 results of a query at most; a test may lower it to reach it.
        self.search_cap = 10_000
        # Answers for given deal searches (1 is the first), instead of results: an outage in the middle of a sync.
        self.search_failures: dict[int, Reply] = {}
        self.deal_contacts: dict[str, list[str]] = {}
        self.deal_companies: dict[str, list[str]] = {}
        # Per deal: [(stage id, ISO time)], oldest first; a deal without one has its current stage only.
        self.stage_history: dict[str, list[tuple[str, str]]] = {}
        self.companies: dict[str, dict] = {}
        self.owners: dict[str, dict] = {}
        self.created: dict[str, list[dict]] = {"notes": [], "tasks": []}
        super().__init__()

    def refuse(self, recorded: Recorded) -> Reply | None:
        if recorded.headers.get("Authorization") != f"Bearer {self.token}":
            return error(401, "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
                         "INVALID_AUTHENTICATION")
        return None

    def contacts_page(self, recorded: Recorded) -> Reply:
        results = [record(cid, c) for cid, c in list(self.contacts.items())[:1]]
        return Reply(200, {"results": results}, LIMITS)

    def contacts_search(self, recorded: Recorded) -> Reply:
        wanted = recorded.json["filterGroups"][0]["filters"][0]["value"]
        found = [record(cid, c) for cid, c in self.contacts.items() if c.get("email") == wanted]
        return Reply(200, {"total": len(found), "results": found}, LIMITS)

    def contact_update(self, recorded: Recorded, contact_id: str) -> Reply:
        if contact_id not in self.contacts:
            return error(404, f"resource not found: contact {contact_id}", "OBJECT_NOT_FOUND")
        self.contacts[contact_id].update(recorded.json["properties"])
        return Reply(200, record(contact_id, self.contacts[contact_id]), LIMITS)

    def create(self, recorded: Recorded, kind: str) -> Reply:
        new_id = str(next(self._ids))
        self.created[kind].append({"id": new_id, **recorded.json})
        return Reply(201, record(new_id, recorded.json["properties"]), LIMITS)

    def pipelines_page(self, recorded: Recorded) -> Reply:
        results = [{"id": p["id"], "label": p["label"], "displayOrder": 0, "createdAt": STAMP, "updatedAt": STAMP,
                    "archived": False, "stages": [
                        {"id": s["id"], "label": s["id"], "displayOrder": i, "metadata": s["metadata"],
                         "createdAt": STAMP, "updatedAt": STAMP, "archived": False}
                        for i, s in enumerate(p["stages"])]} for p in self.pipelines]
        return Reply(200, {"results": results}, LIMITS)

    def deals_search(self, recorded: Recorded) -> Reply:
        searches = len([r for r in self.requests if r.path.startswith("/crm/v3/objects/deals/search")])
        if searches in self.search_failures:
            return self.search_failures[searches]
        body = recorded.json
        filters = body["filterGroups"][0]["filters"]
        stages = next(f["values"] for f in filters if f["propertyName"] == "dealstage")
        since = next((f for f in filters if f["propertyName"] == "hs_lastmodifieddate"), None)
        later = {"GT": int.__gt__, "GTE": int.__ge__}[since["operator"]] if since else None
        matching = sorted((d for d in self.deals if d["properties"]["dealstage"] in stages and (
            later is None or later(_ms(d["properties"]["hs_lastmodifieddate"]), _ms(since["value"])))),
                          key=lambda d: _ms(d["properties"]["hs_lastmodifieddate"]))
        start, limit = int(body.get("after") or 0), int(body.get("limit") or 10)
        if start + limit > self.search_cap:
            return error(400, f"The search API returns at most {self.search_cap} results; narrow the query.",
                         "VALIDATION_ERROR")
        page = matching[start:start + limit]
        answer = {"total": len(matching), "results": [record(d["id"], d["properties"]) for d in page]}
        if start + len(page) < len(matching):
            answer["paging"] = {"next": {"after": str(start + len(page))}}
        return Reply(200, answer, LIMITS)

    def deal_get(self, recorded: Recorded, deal_id: str) -> Reply:
        deal = next((d for d in self.deals if d["id"] == deal_id), None)
        if deal is None:
            return error(404, f"resource not found: deal {deal_id}", "OBJECT_NOT_FOUND")
        props = deal["properties"]
        history = self.stage_history.get(deal_id) or [(props["dealstage"], props["hs_lastmodifieddate"])]
        answer = record(deal_id, props)
        answer["propertiesWithHistory"] = {"dealstage": [
            {"value": stage, "timestamp": at, "sourceType": "CRM_UI"} for stage, at in reversed(history)]}
        answer["associations"] = {kind: {"results": [{"id": rid, "type": f"deal_to_{kind[:-1]}"} for rid in ids]}
                                  for kind, ids in (("contacts", self.deal_contacts.get(deal_id, [])),
                                                    ("companies", self.deal_companies.get(deal_id, []))) if ids}
        return Reply(200, answer, LIMITS)

    def company_get(self, recorded: Recorded, company_id: str) -> Reply:
        if company_id not in self.companies:
            return error(404, f"resource not found: company {company_id}", "OBJECT_NOT_FOUND")
        return Reply(200, record(company_id, self.companies[company_id]), LIMITS)

    def owner_get(self, recorded: Recorded, owner_id: str) -> Reply:
        if owner_id not in self.owners:
            return error(404, f"owner {owner_id} not found", "OBJECT_NOT_FOUND")
        owner = self.owners[owner_id]
        return Reply(200, {"id": owner_id, "userId": int(owner_id), "archived": False, "createdAt": STAMP,
                           "updatedAt": STAMP, **owner}, LIMITS)

    def callback(self, recorded: Recorded, callback_id: str) -> Reply:
        return Reply(204, None, LIMITS)


def _ms(value: str) -> int:
    if value.isdigit():
        return int(value)
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).timestamp() * 1000)
