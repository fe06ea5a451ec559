"""Channels a step can go out on; each composes its content and delivers it through a connector or an outbox."""

from connectors.errors import ConnectorError
from reengage.channels import email, hubspot_task, webhook
from reengage.channels.base import Channel, Delivery, Outgoing, Step

CHANNELS = {channel.key: channel for channel in (email.CHANNEL, webhook.CHANNEL, hubspot_task.CHANNEL)}

__all__ = ["CHANNELS", "Channel", "ConnectorError", "Delivery", "Outgoing", "Step"]
