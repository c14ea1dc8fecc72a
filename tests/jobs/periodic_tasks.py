"""A test-only periodic task, for workers started with SAFEHOLD_JOBS_TASK_MODULES."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from safehold.jobs import periodic, task


@task("tests.tick")
def tick(payload: dict[str, Any]) -> None:
    """Does nothing: the test counts the jobs enqueued for it."""


periodic("tests.tick", every=timedelta(seconds=1))
