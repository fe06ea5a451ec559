"""Salesforce: the CRM whose closed-lost opportunities feed win-backs, and where tasks and statuses are written."""

from reengage.links.provider import Provider
from reengage.providers.salesforce import client, schemas

PROVIDER = Provider(
    key="salesforce", kind="crm", name="Salesforce", secrets=("client_id", "client_secret", "refresh_token",
                                                              "private_key"),
    required="client_id", input_schema=schemas.SalesforceInputSchema,
    output_schema=schemas.SalesforceConnectionSchema, blueprint=None, callbacks={}, client=client.SalesforceCRM)
