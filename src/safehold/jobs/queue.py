"""Registering tasks and enqueueing jobs. The worker loop is in ``worker.py``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction

TaskFn = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Task:
    name: str
    fn: TaskFn
    max_attempts: int
    lease: timedelta


@dataclass(frozen=True)
class Periodic:
    name: str  # a registered task's name
    every: timedelta
    payload: dict[str, Any]


_tasks: dict[str, Task] = {}
_periodic: dict[str, Periodic] = {}


def _now() -> datetime:
    """The time seam for tests."""
    return datetime.now(UTC)


def task(
    name: str, *, max_attempts: int = 5, lease: timedelta = timedelta(minutes=10)
) -> Callable[[TaskFn], TaskFn]:
    """Register ``fn`` as the task ``name``."""

    def register(fn: TaskFn) -> TaskFn:
        _tasks[name] = Task(name, fn, max_attempts, lease)
        return fn

    return register


def periodic(name: str, *, every: timedelta, payload: dict[str, Any] | None = None) -> None:
    """Run the task ``name`` every ``every`` (enqueued by the worker when due)."""
    _periodic[name] = Periodic(name, every, payload or {})


def get_task(name: str) -> Task | None:
    return _tasks.get(name)


def registered_tasks() -> dict[str, Task]:
    return dict(_tasks)


def periodic_tasks() -> dict[str, Periodic]:
    return dict(_periodic)


def enqueue(
    name: str,
    payload: dict[str, Any] | None = None,
    *,
    run_at: datetime | None = None,
    dedupe_key: str = "",
) -> Any:
    """Queue the task ``name``; returns the Job (or the pending one with the same key).

    Called inside the caller's transaction, the job commits with the change that
    asked for it, or not at all.
    """
    from safehold.jobs.models import Job

    registered = _tasks.get(name)
    if registered is None:
        raise LookupError(f"no task is registered as {name!r}")
    fields = {
        "name": name,
        "payload": payload or {},
        "run_at": run_at or _now(),
        "max_attempts": registered.max_attempts,
        "dedupe_key": dedupe_key,
    }
    if not dedupe_key:
        return Job.objects.create(**fields)
    try:
        with transaction.atomic():
            return Job.objects.create(**fields)
    except IntegrityError:
        return Job.objects.get(
            dedupe_key=dedupe_key, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
        )
