"""A CRM that lives in memory: a whole provider in one small package, to show that adding one touches no engine code."""

from reengage.links.provider import Provider
from tests.providers.fake_crm import client, schemas

PROVIDER = Provider(
    key="fake_crm", kind="crm", name="Fake CRM", secrets=("api_key",), required="api_key",
    input_schema=schemas.FakeCRMInputSchema, output_schema=schemas.FakeCRMConnectionSchema, blueprint=None,
    callbacks={}, client=client.FakeCRM)
