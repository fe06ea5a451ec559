"""Every HTTP blueprint, in one place."""

from reengage.links.provider import Provider
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
    me,
    metrics,
    options,
    product_updates,
    rules,
    searches,
    settings,
    suppressions,
    triggers,
    unsubscribe,
    winback,
)

PAGES = (unsubscribe.blp, dashboard.blp)


def blueprints(providers: dict[str, Provider]) -> tuple:
    """Blueprints of the documented API, with the connections and webhooks of `providers`.

    Unsubscribe pages and the dashboard (PAGES) are for people, not callers of the API.
    """
    return (health.blp, me.blp, contacts.blp, events.blp, rules.blp, dropoffs.blp, settings.blp, flows.blp,
            enrollments.blp, suppressions.blp, actions.blp, atomic.blp, connections.blueprint(providers),
            *(provider.blueprint for provider in providers.values() if provider.blueprint is not None),
            triggers.blp, hooks.blp, searches.blp, options.blp, deals.blp, product_updates.blp, winback.blp,
            metrics.blp)
