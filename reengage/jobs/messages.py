"""Sending messages: each queued message is claimed by one job and sent at most once."""

from reengage.jobs import job
from reengage.sending import dispatch


@job(merge_lists=True)
def send_messages(message_ids: list[int]) -> dict[str, int]:
    """Send the given queued messages; safe to repeat (a message no longer queued is left alone)."""
    return dispatch.send(message_ids)
