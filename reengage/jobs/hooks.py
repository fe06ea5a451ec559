"""Delivering REST hooks: each queued delivery is claimed by one job and posted."""

from collections.abc import Mapping
from typing import Any

from reengage import hooks
from reengage.jobs import job


def most_per_delivery(config: Mapping[str, Any]) -> float:
    """The longest one delivery may take: one POST up to the connector timeout, and its two commits."""
    return config["CONNECTOR_TIMEOUT_SECONDS"] + 2


@job(merge_lists=True, item_seconds=most_per_delivery)
def deliver_hooks(delivery_ids: list[int]) -> dict[str, int]:
    """POST the given queued deliveries; safe to repeat (a delivery no longer queued is left alone)."""
    return hooks.deliver(delivery_ids)
