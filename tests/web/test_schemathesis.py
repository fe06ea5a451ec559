"""Requests generated from openapi.yaml, valid and invalid, never get a server error, on each backend."""

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

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


def test_no_generated_request_gets_a_server_error(app, acme, hubspot, sendgrid):
    # One app and one account for every operation: rows one request creates are there for the next ones.
    # Local HubSpot and SendGrid answer the credential checks, so an upstream outage is not what is tested.
    for operation in OPERATIONS:
        for mode in GenerationMode:
            _no_server_error(app, acme.headers, operation, mode)
