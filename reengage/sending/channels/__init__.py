"""Channels a step can go out on; each composes its content and delivers it through a connector or an outbox."""

from connectors.errors import ConnectorError
from reengage.sending.channels import email, hubspot_task, webhook
from reengage.sending.channels.base import Delivery, Outgoing

CHANNELS = {channel.KEY: channel for channel in (email, webhook, hubspot_task)}

__all__ = ["CHANNELS", "ConnectorError", "Delivery", "Outgoing"]
