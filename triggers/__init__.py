"""Every polling trigger, in one place: each module declares its items and the query that lists them."""

from triggers import (
    contact_engaged,
    contact_recovered,
    dropoff_detected,
    escalation_raised,
    message_due,
    winback_ready,
)

TRIGGERS = {trigger.KEY: trigger for trigger in (
    dropoff_detected, message_due, contact_recovered, contact_engaged, winback_ready, escalation_raised)}
