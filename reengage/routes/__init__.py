"""Every HTTP blueprint, in one place."""

from reengage.routes import actions, atomic, contacts, dropoffs, events, health, me, rules

BLUEPRINTS = (health.blp, me.blp, contacts.blp, events.blp, rules.blp, dropoffs.blp, actions.blp, atomic.blp)
