"""A local Salesforce over https: the OAuth token endpoint (refresh token and JWT bearer), SOQL queries paged by
`nextRecordsUrl`, sObject create and update, Salesforce's error bodies and the `Sforce-Limit-Info` header.

SOQL is not parsed in general: each query the provider sends is recognised by its shape, and anything else is
refused as Salesforce refuses a malformed query.
"""

import itertools
import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import jwt

from tests.fakes.server import FakeServer, Recorded, Reply
from tests.fakes.tls import server_context

PAGE = 2
DATA = r"/services/data/v[\d.]+"


def errors(status: int, code: str, message: str) -> Reply:
    """Salesforce's REST error body: a list of {message, errorCode}."""
    return Reply(status, [{"message": message, "errorCode": code}])


def stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class FakeSalesforce(FakeServer):
    ROUTES = (
        ("POST", r"/services/oauth2/token", "token"),
        ("GET", DATA + r"/query/?", "query"),
        ("GET", DATA + r"/query/([\w-]+)", "query_more"),
        ("POST", DATA + r"/sobjects/(\w+)/?", "create"),
        ("PATCH", DATA + r"/sobjects/(\w+)/(\w+)", "update"),
    )

    def __init__(self, client_id: str, refresh_token: str, client_secret: str, username: str = "",
                 public_key: str | None = None):
        self.client_id, self.refresh_token, self.client_secret = client_id, refresh_token, client_secret
        self.username, self.public_key = username, public_key
        self.access_token, self._tokens, self._ids = "00D-fake!token-1", itertools.count(2), itertools.count(1)
        self.opportunities: dict[str, dict] = {}
        self.contacts: dict[str, dict] = {}
        self.leads: dict[str, dict] = {}
        self.tasks: list[dict] = []
        self.used, self.limit = 100, 15000
        self._pages: dict[str, list[dict]] = {}
        super().__init__(tls=server_context())

    def expire(self) -> None:
        """Revoke the access token, as a session timeout does; the refresh token still works."""
        self.access_token = f"00D-fake!token-{next(self._tokens)}"

    def refuse(self, recorded: Recorded) -> Reply | None:
        if recorded.path.startswith("/services/data/"):
            self.used += 1
            if recorded.headers.get("Authorization") != f"Bearer {self.access_token}":
                return errors(401, "INVALID_SESSION_ID", "Session expired or invalid")
        return None

    def _answer(self, recorded: Recorded) -> Reply:
        reply = super()._answer(recorded)
        if recorded.path.startswith("/services/data/"):
            reply.headers.setdefault("Sforce-Limit-Info", f"api-usage={self.used}/{self.limit}")
        return reply

    def token(self, recorded: Recorded) -> Reply:
        form = {name: values[0] for name, values in parse_qs(recorded.raw.decode()).items()}
        if form.get("grant_type") == "refresh_token":
            good = (form.get("client_id") == self.client_id and form.get("refresh_token") == self.refresh_token
                    and form.get("client_secret", self.client_secret) == self.client_secret)
        elif form.get("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer" and self.public_key:
            try:
                claims = jwt.decode(form.get("assertion", ""), self.public_key, algorithms=["RS256"], audience=self.url)
            except jwt.PyJWTError:
                claims = {}
            good = claims.get("iss") == self.client_id and claims.get("sub") == self.username
        else:
            return Reply(400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"})
        if not good:
            return Reply(400, {"error": "invalid_grant", "error_description": "expired access/refresh token"})
        return Reply(200, {"access_token": self.access_token, "instance_url": self.url, "token_type": "Bearer",
                           "id": f"{self.url}/id/00Dfake/005fake", "issued_at": "1764000000000", "signature": "x"})

    def query(self, recorded: Recorded) -> Reply:
        soql = parse_qs(urlsplit(recorded.path).query)["q"][0]
        if found := re.search(r"FROM Opportunity WHERE IsClosed = true(?: AND SystemModstamp >= (\S+))? "
                              r"ORDER BY SystemModstamp ASC, Id ASC$", soql):
            since = stamp(found.group(1)) if found.group(1) else None
            rows = sorted((o for o in self.opportunities.values() if o["IsClosed"] and (
                since is None or stamp(o["SystemModstamp"]) >= since)), key=lambda o: (o["SystemModstamp"], o["Id"]))
            return self._page([{k: o[k] for k in ("Id", "IsWon", "CloseDate", "SystemModstamp")} for o in rows])
        if found := re.fullmatch(r"SELECT (.+?), \(SELECT .+ FROM Opportunity WHERE Id = '(\w+)'", soql):
            fields = [name for name in found.group(1).split(", ") if "." not in name]
            unknown = [name for name in fields if not any(name in o for o in self.opportunities.values())]
            if unknown:
                return errors(400, "INVALID_FIELD", f"No such column '{unknown[0]}' on entity 'Opportunity'.")
            return self._page([self._detail(found.group(2))] if found.group(2) in self.opportunities else [])
        if soql == "SELECT Id FROM Opportunity LIMIT 1":
            return self._page([{"Id": key} for key in list(self.opportunities)[:1]])
        if found := re.fullmatch(r"SELECT Id FROM (Contact|Lead) WHERE Email = '(.+?)'( AND IsConverted = false)? "
                                 r"LIMIT 1", soql):
            table = self.contacts if found.group(1) == "Contact" else self.leads
            return self._page([{"Id": key} for key, row in table.items() if row.get("Email") == found.group(2)][:1])
        if found := re.search(r"FROM Lead WHERE ConvertedOpportunityId = '(\w+)' LIMIT 1$", soql):
            return self._page([{"Id": key, **row} for key, row in self.leads.items()
                               if row.get("ConvertedOpportunityId") == found.group(1)][:1])
        return errors(400, "MALFORMED_QUERY", f"unexpected query: {soql[:200]}")

    def query_more(self, recorded: Recorded, cursor: str) -> Reply:
        if cursor not in self._pages:
            return errors(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(self._pages.pop(cursor))

    def create(self, recorded: Recorded, sobject: str) -> Reply:
        record_id = f"00T{next(self._ids):012d}"
        self.tasks.append({"Id": record_id, "sobject": sobject, **recorded.json})
        return Reply(201, {"id": record_id, "success": True, "errors": []})

    def update(self, recorded: Recorded, sobject: str, record_id: str) -> Reply:
        table = {"Opportunity": self.opportunities, "Contact": self.contacts, "Lead": self.leads}.get(sobject, {})
        if record_id not in table:
            return errors(404, "NOT_FOUND", "The requested resource does not exist")
        unknown = [name for name in recorded.json if name not in table[record_id]]
        if unknown:
            return errors(400, "INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type {sobject}")
        table[record_id].update(recorded.json)
        return Reply(204)

    def _detail(self, opportunity_id: str) -> dict:
        row = dict(self.opportunities[opportunity_id])
        history, roles = row.pop("history", []), row.pop("roles", [])
        row["OpportunityHistories"] = self._nested([{"StageName": s, "CreatedDate": at} for s, at in history])
        row["OpportunityContactRoles"] = self._nested([
            {"ContactId": cid, "IsPrimary": primary, "Contact": {k: self.contacts[cid].get(k) for k in (
                "Email", "FirstName", "LastName")}} for cid, primary in roles])
        return row

    @staticmethod
    def _nested(records: list[dict]) -> dict | None:
        return {"totalSize": len(records), "done": True, "records": records} if records else None

    def _page(self, rows: list[dict]) -> Reply:
        body = {"totalSize": len(rows), "done": len(rows) <= PAGE, "records": rows[:PAGE]}
        if len(rows) > PAGE:
            cursor = f"01gFAKE{next(self._ids)}-{PAGE}"
            self._pages[cursor] = rows[PAGE:]
            body["nextRecordsUrl"] = f"/services/data/v59.0/query/{cursor}"
        return Reply(200, body)
