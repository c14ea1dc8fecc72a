"""schemathesis against POST /api/v1/share: no 5xx, every answer matches the document,
for valid and for invalid bodies (the CI run covers it too, on a real server)."""

from __future__ import annotations

import tempfile
import uuid

import pytest

schemathesis = pytest.importorskip("schemathesis")
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402  # after the import check
from django.core.signals import request_finished, request_started  # noqa: E402
from django.db import close_old_connections  # noqa: E402
from hypothesis import HealthCheck, given  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402
from hypothesis.configuration import set_hypothesis_home_dir  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from safehold.api.rates import Rate  # noqa: E402

set_hypothesis_home_dir(tempfile.mkdtemp(prefix="safehold-hypothesis-"))


@pytest.mark.django_db
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_share_operation_keeps_its_contract(settings, make_key, person, delivery, mode) -> None:  # type: ignore[no-untyped-def]
    settings.SAFEHOLD_API_RATE_KEY = settings.SAFEHOLD_API_RATE_IP = Rate(10**6, 60)
    headers = {"Authorization": f"Bearer {make_key('share:request').token}"}
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
        operations = [
            result.ok()
            for result in schema.get_all_operations()
            if result.ok().path == "/api/v1/share"
        ]
        assert len(operations) == 1

        @given(case=operations[0].as_strategy(generation_mode=mode))
        @hypothesis_settings(
            max_examples=60,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def check(case) -> None:  # type: ignore[no-untyped-def]
            if case.headers and "Idempotency-Key" in case.headers:
                case.headers["Idempotency-Key"] = uuid.uuid4().hex
            case.call_and_validate(headers=headers)

        check()
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)
