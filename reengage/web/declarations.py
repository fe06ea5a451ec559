"""What the Zapier and Make apps are built from: every trigger, action, search and dropdown, with fields and samples.

`flask integrations export` writes it to integrations/zapier/declarations.json (the Make app is built
from it too); a test fails when the file drifts from the code, so the apps offer what the API takes.
"""

from typing import Any

from actions import ACTIONS
from reengage.schemas.describe import fields_of, outputs_of
from reengage.web import options
from searches import SEARCHES
from triggers import TRIGGERS, polling


def declarations() -> dict[str, Any]:
    """Every unit the apps offer, with its input fields (a trigger's are its filters) and what its items hold."""
    return {
        "triggers": [{**polling.declaration(trigger), "path": f"/v1/triggers/{key}",
                      "outputs": outputs_of(trigger.item())} for key, trigger in TRIGGERS.items()],
        "actions": [{"key": key, "noun": action.noun, "label": action.label, "description": action.description,
                     "path": f"/v1/actions/{key}", "fields": fields_of(action.input()),
                     "outputs": outputs_of(action.output()), "sample": action.sample}
                    for key, action in ACTIONS.items()],
        "searches": [{"key": key, "noun": search.noun, "label": search.label, "description": search.description,
                      "path": f"/v1/searches/{key}", "fields": fields_of(search.input()),
                      "outputs": outputs_of(search.output()), "one_of": list(search.one_of),
                      "sample": search.sample[0]}
                     for key, search in SEARCHES.items()],
        "options": [{"key": source, "path": f"/v1/options/{source}"} for source in options.SOURCES],
    }
