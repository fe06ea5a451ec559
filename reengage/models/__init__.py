"""Every model, imported here so that the metadata (and Alembic) sees them all."""

from reengage.models.account import Account, ApiKey
from reengage.models.clock_tick import ClockTick
from reengage.models.connection import Connection
from reengage.models.contact import CONSENT_CHANNELS, Contact
from reengage.models.dashboard_session import DashboardSession
from reengage.models.deal import Deal, DealContact, DealOutcome, DealSignal, Escalation, ProductUpdate
from reengage.models.dropoff import Dropoff
from reengage.models.enrollment import Enrollment
from reengage.models.event import Event
from reengage.models.flow import Flow, FlowRoute
from reengage.models.hook import Hook, HookDelivery
from reengage.models.identity import ContactIdentity
from reengage.models.message import Message
from reengage.models.rollup import DropoffRollup, DropoffTouch, MessageRollup
from reengage.models.rule import Rule
from reengage.models.service import SERVICE_STATES, ServiceStatus
from reengage.models.suppression import Suppression
from reengage.models.trigger_item import TriggerItem
from reengage.models.watch import Watch

__all__ = [
    "CONSENT_CHANNELS", "SERVICE_STATES", "Account", "ApiKey", "ClockTick", "Connection", "Contact", "ContactIdentity",
    "DashboardSession", "Deal", "DealContact", "DealOutcome", "DealSignal", "Dropoff", "DropoffRollup", "DropoffTouch",
    "Enrollment", "Escalation", "Event", "Flow", "FlowRoute", "Hook", "HookDelivery", "Message", "MessageRollup",
    "ProductUpdate", "Rule", "ServiceStatus", "Suppression", "TriggerItem", "Watch",
]
