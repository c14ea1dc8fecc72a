"""schemathesis against POST /api/v1/share: no 5xx, every answer matches the document,
for valid and for invalid bodies (the CI run covers it too, on a real server)."""

from __future__ import annotations

import pytest

pytest.importorskip("schemathesis")
from schemathesis import GenerationMode  # after the import check

from safehold.api.rates import Rate
from tests.api.contract import check_operations


@pytest.mark.django_db
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_share_operation_keeps_its_contract(settings, make_key, person, delivery, mode) -> None:  # type: ignore[no-untyped-def]
    settings.SAFEHOLD_API_RATE_KEY = settings.SAFEHOLD_API_RATE_IP = Rate(10**6, 60)
    headers = {"Authorization": f"Bearer {make_key('share:request').token}"}
    check_operations(lambda path: path == "/api/v1/share", headers, mode, count=1, max_examples=60)
