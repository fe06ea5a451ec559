"""The blueprint every API route module declares its routes on."""

import flask_smorest

from reengage.platform.inputs import Parser


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, where each schema's own `unknown` rule holds in every location.

    webargs ignores unknown query parameters by default; a mistyped filter would then be
    silently dropped, so our schemas refuse them instead. JSON bodies parse as `request.get_json()` does.
    """

    ARGUMENTS_PARSER = Parser(unknown=None)
