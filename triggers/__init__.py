"""Every polling trigger, in one place: each module declares its items and the query that lists them."""

from triggers import (
    contact_engaged,
    contact_recovered,
    dropoff_detected,
    escalation_raised,
    message_due,
    winback_ready,
)
from triggers.polling import Trigger

TRIGGERS: dict[str, Trigger] = {trigger.key: trigger for trigger in (
    dropoff_detected.TRIGGER, message_due.TRIGGER, contact_recovered.TRIGGER, contact_engaged.TRIGGER,
    winback_ready.TRIGGER, escalation_raised.TRIGGER)}
