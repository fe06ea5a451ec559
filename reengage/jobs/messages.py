"""Sending messages: each queued message is claimed by one job and sent at most once."""

from collections.abc import Mapping
from typing import Any

from reengage.jobs import job
from reengage.sending import dispatch


def most_per_message(config: Mapping[str, Any]) -> float:
    """The longest one message may take: a HubSpot task makes two calls, each up to the connector timeout."""
    return 2 * config["CONNECTOR_TIMEOUT_SECONDS"] + 2


@job(merge_lists=True, item_seconds=most_per_message)
def send_messages(message_ids: list[int]) -> dict[str, int]:
    """Send the given queued messages; safe to repeat (a message no longer queued is left alone)."""
    return dispatch.send(message_ids)
