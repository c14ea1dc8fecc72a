"""schemathesis in the test run: every operation of the test API, bodies included,
keeps its own OpenAPI contract (no 5xx, answers match their schemas), for valid
and for invalid input.

CI also runs schemathesis's command line against /api/v1/ on a real server
(.ci/run); this one also reaches the write with a body, which exists only in the
tests.
"""

from __future__ import annotations

import tempfile
import uuid

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import GenerationMode

from safehold.api.rates import Rate
from tests.api.conftest import ALL_SCOPES

IDEMPOTENCY = "Idempotency-Key"

# Hypothesis keeps caches in ./.hypothesis; the run leaves nothing in the work tree.
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="safehold-hypothesis-"))


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_keeps_its_contract(settings, make_key, test_routes, mode) -> None:  # type: ignore[no-untyped-def]
    # Hypothesis sends hundreds of requests in one test: no limit may stop it.
    settings.SAFEHOLD_API_RATE_KEY = settings.SAFEHOLD_API_RATE_IP = Rate(10**6, 60)
    headers = {"Authorization": f"Bearer {make_key(*ALL_SCOPES).token}"}
    # As Django's test client does: the test's database connection (and its
    # transaction) outlives each request.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        _check_every_operation(headers, mode)
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


def _check_every_operation(headers: dict[str, str], mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/test/openapi.json", WSGIHandler())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 5

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis_settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def check(case) -> None:  # type: ignore[no-untyped-def]
            if mode == GenerationMode.POSITIVE and case.headers and IDEMPOTENCY in case.headers:
                # Hypothesis repeats simple keys across cases with different bodies, which
                # is a key reused (422, on purpose): each valid case gets a key of its own.
                case.headers[IDEMPOTENCY] = uuid.uuid4().hex
            case.call_and_validate(headers=headers)

        check()
