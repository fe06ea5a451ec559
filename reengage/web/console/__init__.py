"""The setup console at /console: every page of it, registered on one blueprint."""

from reengage.web.console import connections, contacts, flows, hooks, outbox, rules, settings, start, steps
from reengage.web.console.base import blp

PAGES = (start, flows, steps, contacts, rules, settings, connections, outbox, hooks)

__all__ = ["PAGES", "blp"]
