"""API fixtures: keys, Authorization headers and the test-only routes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from safehold.api import services
from safehold.api.scopes import Scope
from tests.e2e.conftest import browser, new_context, recorder  # noqa: F401  # the browser test's fixtures

ALL_SCOPES = [scope.value for scope in Scope]


@pytest.fixture
def make_key(db) -> Callable[..., services.IssuedKey]:  # type: ignore[no-untyped-def]
    """Create a key; by default a server key with every scope."""

    def make(
        *scopes: str,
        kind: str = "server",
        expires_at: datetime | None = None,
        name: str = "billing system",
    ) -> services.IssuedKey:
        return services.create_api_key(
            name=name,
            scopes=list(scopes) or ALL_SCOPES,
            kind=kind,
            expires_at=expires_at,
            actor=None,
        )

    return make


def bearer(token: str) -> dict[str, Any]:
    """Test-client keyword arguments that send ``token`` as the API key."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def test_routes(settings) -> Iterator[list[dict[str, Any]]]:  # type: ignore[no-untyped-def]
    """Serve the test-only routes under /api/test/; yields what the test write did."""
    from tests.api import urls

    settings.ROOT_URLCONF = "tests.api.urls"
    urls.WORK.clear()
    yield urls.WORK
    urls.WORK.clear()
