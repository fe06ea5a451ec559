"""What a step's templates can use: the contact, the dropoff, the flow, the account, and links."""

from typing import Any

from reengage.models import Contact, Dropoff, Flow
from reengage.sending import unsubscribe


def for_step(account_id: int, account_name: str, contact: Contact, dropoff: Dropoff | None, flow: Flow,
             settings: dict, consent: str | None, message_id: int | None = None) -> dict[str, Any]:
    """The context of one step for `contact`: its deep link and (when the channel needs consent) unsubscribe link."""
    link = unsubscribe.url(account_id, contact.id, consent, message_id) if consent else ""
    deep_link = (dropoff.deep_link if dropoff else None) or settings["app_url"] or ""
    return context(contact, dropoff, flow, account_name, deep_link, link)


def context(contact: Contact, dropoff: Dropoff | None, flow: Flow | None, account_name: str, deep_link: str,
            unsubscribe_url: str) -> dict[str, Any]:
    """The variables a template of `flow` sees when rendered for `contact`."""
    name = " ".join(part for part in (contact.first_name, contact.last_name) if part)
    return {
        "contact": {
            "id": contact.id, "first_name": contact.first_name, "last_name": contact.last_name, "name": name or None,
            "email": contact.email, "phone": contact.phone, "external_id": contact.external_id,
            "hubspot_id": contact.identity("hubspot"),
            "timezone": contact.timezone, "country": contact.country, "properties": dict(contact.properties or {}),
        },
        "dropoff": None if dropoff is None else {
            "id": dropoff.id, "scenario": dropoff.scenario, "stage": dropoff.stage, "kind": dropoff.kind,
            "reason": dropoff.category, "intent": dropoff.intent, "service": dropoff.service,
            "value": dropoff.value_at_risk, "currency": dropoff.currency, "segment": dict(dropoff.segment or {}),
            "detected_at": dropoff.detected_at.isoformat() if dropoff.detected_at else None,
        },
        "flow": None if flow is None else {"key": flow.key, "name": flow.name},
        "account": {"name": account_name},
        "deep_link": deep_link,
        "unsubscribe_url": unsubscribe_url,
    }
