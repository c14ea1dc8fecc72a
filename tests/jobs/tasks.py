"""Test-only tasks. The pytest process imports this module (tests/jobs/conftest.py);
a `safehold worker` subprocess imports it through SAFEHOLD_JOBS_TASK_MODULES.

State goes to files named in the payload (a test's own tmp directory), so a test can
watch what a worker in another process did.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from safehold.jobs import task
from safehold.jobs.exceptions import PermanentFailure

#: In-process calls per payload "key" (for tests that run jobs in this process).
calls: Counter[str] = Counter()


@task("tests.noop")
def noop(payload: dict[str, Any]) -> None:
    calls[payload.get("key", "")] += 1


@task("tests.flaky", max_attempts=3)
def flaky(payload: dict[str, Any]) -> None:
    """Fails ``payload["fail"]`` times, then succeeds."""
    key = payload["key"]
    calls[key] += 1
    if calls[key] <= payload["fail"]:
        # The message quotes "personal data": it must never reach last_error.
        raise ValueError("refused the address alice@example.test")


@task("tests.permanent")
def permanent(payload: dict[str, Any]) -> None:
    calls[payload["key"]] += 1
    raise PermanentFailure("the export was already removed")


@task("tests.blocking", max_attempts=3, lease=timedelta(seconds=2))
def blocking(payload: dict[str, Any]) -> None:
    """Notes each start, waits (up to 60 s) for a release file, then notes the finish."""
    folder = Path(payload["dir"])
    with (folder / "started").open("a") as f:
        f.write(f"{os.getpid()}\n")
    deadline = time.monotonic() + 60
    while not (folder / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    with (folder / "finished").open("a") as f:
        f.write(f"{os.getpid()}\n")


@task("tests.sleep")
def sleep(payload: dict[str, Any]) -> None:
    """Sleeps for ``payload["seconds"]`` and notes that it finished."""
    time.sleep(payload["seconds"])
    with (Path(payload["dir"]) / "finished").open("a") as f:
        f.write(f"{os.getpid()}\n")


@task("tests.record")
def record(payload: dict[str, Any]) -> None:
    """Appends ``payload["n"]`` and this process's id to ``dir/records``."""
    with (Path(payload["dir"]) / "records").open("a") as f:
        f.write(f"{payload['n']} {os.getpid()}\n")
