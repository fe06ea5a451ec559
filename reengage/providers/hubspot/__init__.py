"""HubSpot: the CRM our messages, tasks and outcomes are written to, whose workflows and deals feed us."""

from reengage.links.provider import Provider
from reengage.providers.hubspot import client, routes, schemas

PROVIDER = Provider(
    key="hubspot", kind="crm", name="HubSpot", secrets=("access_token", "client_secret"), required="access_token",
    input_schema=schemas.HubSpotInputSchema, output_schema=schemas.HubSpotConnectionSchema, blueprint=routes.blp,
    callbacks={"webhook_url": "/v1/webhooks/hubspot/{token}", "action_url": "/v1/hubspot/actions/{token}"},
    client=client.HubSpotCRM)
