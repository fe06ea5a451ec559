"""The setup console at /console: every page of it, registered on one blueprint."""

from reengage.web.console import contacts, flows, outbox, settings, start
from reengage.web.console.base import blp

PAGES = (start, flows, contacts, settings, outbox)

__all__ = ["PAGES", "blp"]
