"""Atomic: Company Search tells when a company under maintenance is operational again."""

from reengage.links.provider import Provider
from reengage.providers.atomic import client, schemas

PROVIDER = Provider(
    key="atomic", kind="status", name="Atomic", secrets=("api_key", "api_secret"), required="api_key",
    input_schema=schemas.AtomicInputSchema, output_schema=schemas.AtomicConnectionSchema, blueprint=None,
    callbacks={}, client=client.AtomicStatus)
