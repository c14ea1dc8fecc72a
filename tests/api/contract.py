"""schemathesis against the real /api/v1 document, inside the test run: the operations
one app owns keep their contract (no 5xx, every answer matches its schema), for valid
and for invalid input. The CI run checks the whole document on a real server too."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable

import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, reject
from hypothesis import settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import GenerationMode

set_hypothesis_home_dir(tempfile.mkdtemp(prefix="safehold-hypothesis-"))


def check_operations(
    selects: Callable[[str], bool],
    headers: dict[str, str],
    mode: GenerationMode,
    *,
    count: int,
    max_examples: int,
) -> None:
    """Send ``max_examples`` generated cases to each operation whose path ``selects``
    accepts (there must be ``count`` of them), with ``headers``. Each case that sends an
    Idempotency-Key gets a fresh one: hypothesis repeats simple keys across cases with
    different bodies, which the API rightly refuses."""
    # The test database must survive the requests.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
        operations = [
            result.ok() for result in schema.get_all_operations() if selects(result.ok().path)
        ]
        assert len(operations) == count
        for operation in operations:

            @given(case=operation.as_strategy(generation_mode=mode))
            @hypothesis_settings(
                max_examples=max_examples,
                deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            )
            def check(case) -> None:  # type: ignore[no-untyped-def]
                if mode is GenerationMode.NEGATIVE and any(
                    value == [] for value in (case.query or {}).values()
                ):
                    # A query parameter whose value is an empty list is not sent at
                    # all: the request is not the invalid one the case claims to be.
                    reject()
                if case.headers and "Idempotency-Key" in case.headers:
                    case.headers["Idempotency-Key"] = uuid.uuid4().hex
                case.call_and_validate(headers=headers)

            check()
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)
