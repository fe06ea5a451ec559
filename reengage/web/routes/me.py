"""The caller's own account: the connection test and label of Zapier and Make."""

from flask import g
from marshmallow import Schema, fields

from reengage.platform.auth import authenticate
from reengage.platform.blueprint import Blueprint

blp = Blueprint("me", __name__, url_prefix="/v1", description="The account behind the API key.")
blp.before_request(authenticate)


class MeSchema(Schema):
    id = fields.Integer(metadata={"example": 1})
    name = fields.String(metadata={"example": "Acme"})


@blp.route("/me")
@blp.response(200, MeSchema)
def me():
    """The account of the API key (never a secret)."""
    return {"id": g.caller.account_id, "name": g.caller.account_name}
