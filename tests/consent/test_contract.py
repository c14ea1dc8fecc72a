"""schemathesis against the real /api/v1 document, for the consent operations: valid and
invalid input keeps each operation's contract (no 5xx, answers match their schemas)."""

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

set_hypothesis_home_dir(tempfile.mkdtemp(prefix="safehold-hypothesis-"))


@pytest.mark.django_db
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_consent_operations_keep_their_contract(settings, make_key, mode) -> None:  # type: ignore[no-untyped-def]
    settings.SAFEHOLD_API_RATE_KEY = settings.SAFEHOLD_API_RATE_IP = Rate(10**6, 60)
    settings.ALLOWED_HOSTS = ["*"]
    headers = {"Authorization": f"Bearer {make_key('consent:read', 'consent:write').token}"}
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
        operations = [
            result.ok()
            for result in schema.get_all_operations()
            if result.ok().path.startswith("/api/v1/consent")
        ]
        assert len(operations) == 3
        for operation in operations:

            @given(case=operation.as_strategy(generation_mode=mode))
            @hypothesis_settings(
                max_examples=30,
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
