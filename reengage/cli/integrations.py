"""`flask integrations export` and `flask hubspot action-definition`: what the Zapier, Make and HubSpot apps are
built from."""

import json

import click
from flask.cli import AppGroup

from reengage import connections
from reengage.providers.hubspot import action
from reengage.web import declarations

hubspot = AppGroup("hubspot", help="HubSpot: the custom workflow action.")
integration_apps = AppGroup("integrations", help="The Zapier and Make apps.")


@integration_apps.command("export")
@click.argument("path", default="integrations/zapier/declarations.json")
def export_declarations(path: str) -> None:
    """Write every trigger, action, search and dropdown the apps offer (with fields and samples) to PATH."""
    with open(path, "w") as handle:
        json.dump(declarations.declarations(), handle, indent=2, sort_keys=True)
        handle.write("\n")
    click.echo(f"Wrote {path}.")


@hubspot.command("action-definition")
@click.argument("account_id", type=int)
@click.option("--draft", is_flag=True, help="Register the action unpublished (only your portals see it).")
def action_definition(account_id: int, draft: bool) -> None:
    """Print the JSON that registers ACCOUNT_ID's custom workflow action (POST /automation/actions/2026-03/{appId})."""
    connection = connections.find(account_id, "hubspot")
    if connection is None:
        raise click.ClickException(f"Account {account_id} has no HubSpot connection: PUT /v1/connections/hubspot.")
    action_url = connections.view(connection)["action_url"]
    click.echo(json.dumps(action.definition(action_url, published=not draft), indent=2))
    app_id = (connection.settings or {}).get("app_id")
    target = action.DEFINITIONS_PATH.replace("{appId}", str(app_id) if app_id else "<your app id>")
    click.echo(f"POST it to https://api.hubapi.com{target} with your developer API key.", err=True)
