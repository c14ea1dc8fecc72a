"""Policy fixtures: drafts, publication, and a clock the test can move forward."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from safehold.audit.services import Actor
from safehold.policy import services
from safehold.policy.models import StatementVersion
from tests.api.conftest import make_key  # noqa: F401  # API keys for the statement's routes
from tests.e2e.conftest import browser, new_context, recorder  # noqa: F401  # the browser test's


class Clock:
    """``services._now()`` under the test's control (real time until moved)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return timezone.now() + self.offset

    def forward(self, delta: timedelta) -> None:
        self.offset += delta


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(services, "_now", c.now)
    return c


def v1_text(language: str = "en") -> str:
    return services.default_texts()[language]


@pytest.fixture
def publish(db) -> Callable[..., StatementVersion]:  # type: ignore[no-untyped-def]
    """Create and publish a version from {language: text}."""

    def make(
        texts: dict[str, str],
        *,
        material: bool = False,
        effective_at: datetime | None = None,
        summaries: dict[str, str] | None = None,
    ) -> StatementVersion:
        draft = services.create_draft(texts=texts, summaries=summaries, material=material)
        return services.publish_version(draft, actor=Actor.system(), effective_at=effective_at)

    return make
