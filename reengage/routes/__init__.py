"""Every HTTP blueprint, in one place."""

from reengage.routes import contacts, events, health, me

BLUEPRINTS = (health.blp, me.blp, contacts.blp, events.blp)
