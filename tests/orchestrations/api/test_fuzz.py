"""Fuzz the live API from its OpenAPI document with schemathesis: valid and invalid requests to
every operation must get no 5xx and no answer the document does not describe (status code,
content type, headers, body schema). Bounded: a few dozen requests per operation, in a fixed
order (derandomized) so that CI runs are repeatable."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from orchestrations.api import openapi
from tests.orchestrations.api.helpers import settle

EXAMPLES_PER_OPERATION = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def fuzz(operation, mode: GenerationMode, base_url: str, key: str, checks: list) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        case.call_and_validate(base_url=base_url, headers={"x-functions-key": key}, checks=checks, timeout=30)

    check()


@pytest.mark.slow
def test_fuzzing_the_openapi_document_finds_no_server_error_and_no_undocumented_answer(live_server, admin_key):
    # Some data for the operations to find: a finished and a running instance, an entity.
    from entities import services as entities
    from orchestrations import services
    from orchestrations.engine import EntityId

    services.start("echo_orchestrator", {"x": 1}, instance_id="fuzzed-done")
    services.start("wait_for_approval", instance_id="fuzzed-running")
    entities.signal(EntityId("counter", "fuzzed"), "add", 1)
    settle()

    schema = schemathesis.openapi.from_dict(openapi.document())
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        modes = [(GenerationMode.POSITIVE, CHECKS)]
        if list(operation.iter_parameters()) or operation.body:
            # Only an operation that takes something can be sent something invalid.
            modes.append((GenerationMode.NEGATIVE, [*CHECKS, negative_data_rejection]))
        for mode, checks in modes:
            try:
                fuzz(operation, mode, live_server.url, admin_key, checks)
            # Schemathesis reports failures as a BaseExceptionGroup; collect every operation's, then report them all.
            except (Exception, BaseExceptionGroup) as failure:
                failures.append(f"{operation.label} ({mode.value}): {failure}")
    assert not failures, "\n\n".join(failures)
