"""Every model, imported here so that the metadata (and Alembic) sees them all."""

from reengage.models.account import Account, ApiKey
from reengage.models.contact import CONSENT_CHANNELS, Contact
from reengage.models.event import Event

__all__ = ["CONSENT_CHANNELS", "Account", "ApiKey", "Contact", "Event"]
