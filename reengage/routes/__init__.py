"""Every HTTP blueprint, in one place."""

from reengage.routes import (
                             actions,
                             atomic,
                             connections,
                             contacts,
                             dropoffs,
                             enrollments,
                             events,
                             flows,
                             health,
                             hubspot,
                             me,
                             rules,
                             sendgrid,
                             settings,
                             suppressions,
                             unsubscribe,
)

# Blueprints of the documented API; unsubscribe pages are for people, not callers of the API.
BLUEPRINTS = (health.blp, me.blp, contacts.blp, events.blp, rules.blp, dropoffs.blp, settings.blp, flows.blp,
              enrollments.blp, suppressions.blp, actions.blp, atomic.blp, connections.blp,
              sendgrid.blp, hubspot.blp)
PAGES = (unsubscribe.blp,)
