"""Every provider, in one place: adding a service is a package and a line here."""

from flask import Flask

from reengage.links import provider
from reengage.links.provider import Provider
from reengage.providers import atomic, hubspot, salesforce, sendgrid

# In the order their connection routes and webhooks appear in the API (openapi.yaml).
PROVIDERS = {p.key: p for p in (sendgrid.PROVIDER, hubspot.PROVIDER, salesforce.PROVIDER, atomic.PROVIDER)}


def init_app(app: Flask, providers: dict[str, Provider] | None = None) -> dict[str, Provider]:
    """Connect the app to `providers` (all of them unless given); answer them."""
    chosen = PROVIDERS if providers is None else providers
    provider.init_app(app, chosen)
    return chosen
