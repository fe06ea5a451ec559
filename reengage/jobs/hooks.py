"""Delivering REST hooks: each queued delivery is claimed by one job and posted."""

from reengage import hooks
from reengage.jobs import job


@job(merge_lists=True)
def deliver_hooks(delivery_ids: list[int]) -> dict[str, int]:
    """POST the given queued deliveries; safe to repeat (a delivery no longer queued is left alone)."""
    return hooks.deliver(delivery_ids)
