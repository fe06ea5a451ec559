"""Dropdown sources for Zapier dynamic fields and Make RPCs: `{id, name}` lists."""

from marshmallow import Schema, fields

from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from reengage.web import options

blp = Blueprint("options", __name__, url_prefix="/v1", description="Choices for dropdowns in Zapier and Make.")
blp.before_request(authenticate)


class OptionSchema(Schema):
    id = fields.Raw(metadata={"description": "The value to send (a key, or a phase number).", "example": "sales"})
    name = fields.String(metadata={"example": "Sales follow-up"})


def _route(source: str) -> None:
    def choices():
        return options.SOURCES[source](account_id())

    choices.__doc__ = f"The {source} to choose from. {options.SOURCES[source].__doc__}"
    view = blp.response(200, OptionSchema(many=True))(choices)
    blp.route(f"/options/{source}", endpoint=f"options_{source}")(view)


for _source in options.SOURCES:
    _route(_source)
