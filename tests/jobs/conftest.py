"""Fixtures for the job queue: test tasks registered, and a movable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.jobs import tasks


@pytest.fixture(autouse=True)
def _fresh_queue(request: pytest.FixtureRequest) -> None:
    """No calls counted, and in database tests an empty queue: other apps' data
    migrations enqueue jobs of their own (an announcement of the first statement)."""
    tasks.calls.clear()
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and not marker.kwargs.get("transaction", False):
        request.getfixturevalue("db")
        from safehold.jobs.models import Job

        Job.objects.all().delete()


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


@pytest.fixture
def own_periodic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the jobs app's periodic tasks (other apps' run in their own tests)."""
    from safehold.jobs import queue

    monkeypatch.setattr(
        queue, "_periodic", {k: v for k, v in queue._periodic.items() if k.startswith("jobs.")}
    )
