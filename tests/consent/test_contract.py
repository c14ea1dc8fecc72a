"""schemathesis against the real /api/v1 document, for the consent operations: valid and
invalid input keeps each operation's contract (no 5xx, answers match their schemas)."""

from __future__ import annotations

import pytest
from schemathesis import GenerationMode

from safehold.api.rates import Rate
from tests.api.contract import check_operations


@pytest.mark.django_db
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_consent_operations_keep_their_contract(settings, make_key, mode) -> None:  # type: ignore[no-untyped-def]
    settings.SAFEHOLD_API_RATE_KEY = settings.SAFEHOLD_API_RATE_IP = Rate(10**6, 60)
    settings.ALLOWED_HOSTS = ["*"]
    headers = {"Authorization": f"Bearer {make_key('consent:read', 'consent:write').token}"}
    check_operations(
        lambda path: path.startswith("/api/v1/consent"), headers, mode, count=3, max_examples=30
    )
