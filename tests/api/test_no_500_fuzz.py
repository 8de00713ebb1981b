"""Property-based: no input to any endpoint of /api/openapi.json makes the API answer 500.

Schemathesis generates valid and invalid requests (wrong types, out-of-range and huge numbers, NUL
characters, missing and extra fields) for every operation; every answer must be below 500, and every
error must be the JSON error shape. The number of inputs tried is printed at the end of the run.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from dispatchd.models import CaseStatus
from tests.api.fuzz import INPUTS_TRIED, TestTransactionWsgi, assert_below_500_and_json_errors
from tests.dispatchd.helpers import case_in
from wall.auth import create_token

EXAMPLES_PER_OPERATION = 40


def errors_are_json(ctx, response, case) -> None:
    """Every 4xx of the API (but a 405) is {"error": code, "detail": ...}."""
    assert_below_500_and_json_errors(response.status_code, response.content)


schema = schemathesis.openapi.from_wsgi("/api/openapi.json", TestTransactionWsgi())
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=EXAMPLES_PER_OPERATION,
    allow_x00=True,
    database="none",
)


@pytest.fixture
def admin_header(city) -> dict[str, str]:
    """An admin token (the role that reaches furthest), with a case in hand for the ids to find."""
    case_in(city, CaseStatus.HANDLING)
    return {"Authorization": f"Bearer {create_token('admin', 'fuzz')}"}


@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_no_input_to_any_operation_is_a_server_error(case, admin_header):
    response = case.call(headers=admin_header)
    INPUTS_TRIED[f"{case.method} {case.path}"] += 1
    case.validate_response(response, checks=[not_a_server_error, errors_are_json])
