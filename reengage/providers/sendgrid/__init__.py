"""SendGrid: sends the email channel's messages and tells us, through its Event Webhook, what became of them."""

from reengage.links.provider import Provider
from reengage.providers.sendgrid import client, routes, schemas

PROVIDER = Provider(
    key="sendgrid", kind="email", name="SendGrid", secrets=("api_key",), required="api_key",
    input_schema=schemas.SendGridInputSchema, output_schema=schemas.SendGridConnectionSchema, blueprint=routes.blp,
    callbacks={"event_webhook_url": "/v1/webhooks/sendgrid/{token}"}, client=client.SendGridSender)
