"""schemathesis against the statement's routes of the real /api/v1 document."""

from __future__ import annotations

import pytest
from schemathesis import GenerationMode

from safehold.api.rates import Rate
from tests.api.contract import check_operations


@pytest.mark.django_db
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_statement_routes_keep_their_contract(settings, make_key, publish, mode) -> None:  # type: ignore[no-untyped-def]
    settings.SAFEHOLD_API_RATE_KEY = settings.SAFEHOLD_API_RATE_IP = Rate(10**6, 60)
    publish({"en": "# S\n\nTwo.", "zh-hans": "# 声明\n\n二。"})
    headers = {"Authorization": f"Bearer {make_key('statement:read').token}"}
    check_operations(
        lambda path: path.startswith("/api/v1/statement"), headers, mode, count=2, max_examples=25
    )
