"""Every HTTP blueprint, in one place."""

from reengage.web.routes import (
    actions,
    atomic,
    connections,
    contacts,
    dashboard,
    deals,
    dropoffs,
    enrollments,
    events,
    flows,
    health,
    hooks,
    hubspot,
    me,
    metrics,
    options,
    product_updates,
    rules,
    searches,
    sendgrid,
    settings,
    suppressions,
    triggers,
    unsubscribe,
    winback,
)

# Blueprints of the documented API; unsubscribe pages and the dashboard are for people, not callers of the API.
BLUEPRINTS = (health.blp, me.blp, contacts.blp, events.blp, rules.blp, dropoffs.blp, settings.blp, flows.blp,
              enrollments.blp, suppressions.blp, actions.blp, atomic.blp, connections.blp,
              sendgrid.blp, hubspot.blp, triggers.blp, hooks.blp,
              searches.blp, options.blp, deals.blp, product_updates.blp, winback.blp,
              metrics.blp)
PAGES = (unsubscribe.blp, dashboard.blp)
