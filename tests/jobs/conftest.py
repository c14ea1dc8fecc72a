"""Fixtures for the job queue: test tasks registered, and a movable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.jobs import tasks


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    tasks.calls.clear()


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The queue's time seam, under the test's control."""
    from safehold.jobs import queue

    moving = Clock()
    monkeypatch.setattr(queue, "_now", moving)
    return moving
