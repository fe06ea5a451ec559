"""The account's connections to SendGrid and HubSpot: set, show (never the credentials), check, remove."""

from reengage import connections
from reengage.platform import db
from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from reengage.platform.errors import ApiError
from reengage.schemas.connection import (
    HubSpotConnectionSchema,
    HubSpotInputSchema,
    SendGridConnectionSchema,
    SendGridInputSchema,
)

blp = Blueprint("connections", __name__, url_prefix="/v1",
                description="Credentials and settings for SendGrid and HubSpot, stored encrypted.")
blp.before_request(authenticate)
NAMES = {"sendgrid": "SendGrid", "hubspot": "HubSpot"}


def _register(provider: str, input_schema, output_schema) -> None:
    name, path = NAMES[provider], f"/connections/{provider}"

    @blp.route(path, methods=["GET"], endpoint=f"get_{provider}")
    @blp.doc(summary=f"Show the {name} connection",
             description="Settings, which credentials are set (never their values), the URLs to paste into "
                         f"{name}, and whether the credentials worked the last time they were used.")
    @blp.response(200, output_schema)
    def show():
        return connections.view(_found(provider))

    @blp.route(path, methods=["PUT"], endpoint=f"put_{provider}")
    @blp.doc(summary=f"Connect {name}",
             description="Replace the settings; credentials given replace the stored ones, omitted ones are kept. "
                         "The state goes back to `unchecked` until a call or a check tries them.")
    @blp.arguments(input_schema)
    @blp.response(200, output_schema)
    def put(data):
        with db.transaction():
            return connections.view(connections.save(account_id(), provider, data))

    @blp.route(f"{path}/validate", methods=["POST"], endpoint=f"validate_{provider}")
    @blp.doc(summary=f"Check the {name} credentials now",
             description=f"Calls {name} once; `status` says whether the credentials were accepted. "
                         f"502 when {name} could not be reached.")
    @blp.response(200, output_schema)
    def validate():
        with db.transaction():
            return connections.view(connections.check(_found(provider)))

    @blp.route(path, methods=["DELETE"], endpoint=f"delete_{provider}")
    @blp.doc(summary=f"Disconnect {name}", description="Forget the settings and credentials.")
    @blp.response(204)
    def delete():
        with db.transaction() as db_session:
            db_session.delete(_found(provider))


def _found(provider: str):
    connection = connections.find(account_id(), provider)
    if connection is None:
        raise ApiError(404, "not_found", f"{NAMES[provider]} is not connected; connect it with "
                                         f"PUT /v1/connections/{provider}.")
    return connection


_register("sendgrid", SendGridInputSchema, SendGridConnectionSchema)
_register("hubspot", HubSpotInputSchema, HubSpotConnectionSchema)
