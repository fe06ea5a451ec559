"""The REST API object: flask-smorest, answering errors through the one handler."""

from flask import Flask
from flask_smorest import Api

from reengage.platform import errors, fields
from reengage.schemas.error import ErrorSchema
from reengage.web import contract

VERSION = "1.0.0"
SPEC_SETTINGS = {
    "API_TITLE": "Reengage",
    "API_VERSION": VERSION,
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "info": {
            "description": (
                "Reengage finds the people who drop off a funnel and brings them back with a timed, "
                "five-phase re-engagement sequence. Authenticate with `Authorization: Bearer <key>` "
                "or `X-API-Key: <key>`."
            )
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            }
        },
        "security": [{"bearerAuth": []}, {"apiKeyHeader": []}],
    },
}


class RestApi(Api):
    """flask-smorest's Api, with our error body in the spec and our handler for HTTP errors."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return errors.http_error(error)

    def _register_pagination_header(self) -> None:
        """Nothing: no route pages with flask-smorest's pagination, so its schema would sit unused in the spec."""


def init_app(app: Flask, blueprints) -> RestApi:
    """Set up the API and register every blueprint on it."""
    for key, value in SPEC_SETTINGS.items():
        app.config.setdefault(key, value)
    # Where this deployment is reached (PUBLIC_URL): the server generated clients call, and whom to ask.
    options, public = app.config["API_SPEC_OPTIONS"], app.config["PUBLIC_URL"]
    app.config["API_SPEC_OPTIONS"] = {
        **options, "info": {"contact": {"name": "This server's operators", "url": public}, **options["info"]},
        "servers": options.get("servers") or [{"url": public, "description": "This server (its PUBLIC_URL)."}]}
    api = RestApi(app, spec_kwargs={"extra_plugins": [contract.ContractPlugin(app)]})
    contract.init_spec(api.spec)
    api.ma_plugin.converter.add_attribute_function(contract.null_in_enum)
    app.extensions["api"] = api
    api.register_converter(fields.Int64Converter, fields.int64_parameter)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    return api
