"""Atomic as an account's status source: a company's state from Company Search."""

from flask import current_app

from connectors.atomic import PRODUCTION, SANDBOX, Atomic
from reengage.connections import Linked


class AtomicStatus:
    """An account's Atomic connection (reengage.links.status.ServiceStatus)."""

    def __init__(self, link: Linked):
        self.operational = {value.lower() for value in link.settings.get("operational_values") or ["operational"]}
        self.client = Atomic(link.secrets["api_key"], link.secrets.get("api_secret"),
                             current_app.config["ATOMIC_API_URL"] or (SANDBOX if link.settings.get("sandbox")
                                                                      else PRODUCTION),
                             current_app.config["CONNECTOR_TIMEOUT_SECONDS"])

    def check(self) -> None:
        """Try the credentials with one search."""
        self.client.search("bank")

    def status(self, service: str) -> str | None:
        """The state of the company named `service` (by id or name), else of the first company found."""
        found = self.client.search(service)
        company = next((c for c in found if service in (c.get("_id"), c.get("name"))), found[0] if found else None)
        if company is None:
            return None
        return "operational" if str(company.get("status", "")).lower() in self.operational else "maintenance"
