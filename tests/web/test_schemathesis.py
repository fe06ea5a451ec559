"""Requests generated from openapi.yaml, valid and invalid, never get a server error, on each backend."""

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.fakes.atomic import FakeAtomic
from tests.fakes.salesforce import FakeSalesforce
from tests.fakes.tls import certificate

SPEC_FILE = Path(__file__).resolve().parents[2] / "openapi.yaml"
# Cases per operation and mode: about 360 per backend, near a minute for both. derandomize fixes the seed.
CASES = 2

schema = schemathesis.openapi.from_path(SPEC_FILE)
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


def _no_server_error(app, headers: dict[str, str], operation, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=CASES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def call(case):
        case.call_and_validate(app=app, headers=headers, checks=[not_a_server_error])

    try:
        call()
    except Unsatisfiable:
        # An operation that takes no parameters and no body has no invalid request to send.
        assert mode is GenerationMode.NEGATIVE, f"no request generated for {operation.label}"


@pytest.fixture
def elsewhere(app, monkeypatch):
    """Local Salesforce and Atomic, for the credential checks of their connections."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certificate()[0])
    salesforce, atomic = FakeSalesforce("3MVG9-key", "5Aep861-token", "secret"), FakeAtomic("key", "secret")
    app.config.update(SALESFORCE_LOGIN_URL=salesforce.url, ATOMIC_API_URL=atomic.url)
    yield
    salesforce.close()
    atomic.close()


def test_no_generated_request_gets_a_server_error(app, acme, hubspot, sendgrid, elsewhere):
    # One app and one account for every operation: rows one request creates are there for the next ones.
    # Local services answer the credential checks, so an upstream outage is not what is tested.
    for operation in OPERATIONS:
        for mode in GenerationMode:
            _no_server_error(app, acme.headers, operation, mode)
