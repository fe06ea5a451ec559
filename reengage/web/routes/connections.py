"""The account's connections to outside services: set, show (never the credentials), check, remove."""

from reengage import connections
from reengage.links.provider import Provider
from reengage.platform import db
from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from reengage.platform.errors import ApiError


def blueprint(providers: dict[str, Provider]) -> Blueprint:
    """The connection routes of every provider, `/connections/<key>` each."""
    blp = Blueprint("connections", __name__, url_prefix="/v1",
                    description="Credentials and settings for " + " and ".join(p.name for p in providers.values())
                                + ", stored encrypted.")
    blp.before_request(authenticate)
    for provider in providers.values():
        _register(blp, provider)
    return blp


def _register(blp: Blueprint, provider: Provider) -> None:
    key, name, path = provider.key, provider.name, f"/connections/{provider.key}"

    @blp.route(path, methods=["GET"], endpoint=f"get_{key}")
    @blp.doc(summary=f"Show the {name} connection",
             description="Settings, which credentials are set (never their values), the URLs to paste into "
                         f"{name}, and whether the credentials worked the last time they were used.")
    @blp.response(200, provider.output_schema)
    def show():
        return connections.view(_found(provider))

    @blp.route(path, methods=["PUT"], endpoint=f"put_{key}")
    @blp.doc(summary=f"Connect {name}",
             description="Replace the settings; credentials given replace the stored ones, omitted ones are kept. "
                         "The state goes back to `unchecked` until a call or a check tries them.")
    @blp.arguments(provider.input_schema)
    @blp.response(200, provider.output_schema)
    def put(data):
        with db.transaction():
            return connections.view(connections.save(account_id(), key, data))

    @blp.route(f"{path}/validate", methods=["POST"], endpoint=f"validate_{key}")
    @blp.doc(summary=f"Check the {name} credentials now",
             description=f"Calls {name} once; `status` says whether the credentials were accepted. "
                         f"502 when {name} could not be reached.")
    @blp.response(200, provider.output_schema)
    def validate():
        with db.transaction():
            return connections.view(connections.check(_found(provider)))

    @blp.route(path, methods=["DELETE"], endpoint=f"delete_{key}")
    @blp.doc(summary=f"Disconnect {name}", description="Forget the settings and credentials.")
    @blp.response(204)
    def delete():
        with db.transaction() as db_session:
            db_session.delete(_found(provider))


def _found(provider: Provider):
    connection = connections.find(account_id(), provider.key)
    if connection is None:
        raise ApiError(404, "not_found", f"{provider.name} is not connected; connect it with "
                                         f"PUT /v1/connections/{provider.key}.")
    return connection
