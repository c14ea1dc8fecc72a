"""The rights app's background jobs (payloads hold ids only)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from safehold.jobs import periodic, task
from safehold.rights import services


@task(services.EXPORT_TASK, max_attempts=3, lease=timedelta(minutes=30))
def build_export(payload: dict[str, Any]) -> None:
    services.build_export(int(payload["export_id"]))


@task(services.ERASE_TASK, max_attempts=10, lease=timedelta(minutes=10))
def erase(payload: dict[str, Any]) -> None:
    services.run_erasure(int(payload["erasure_id"]))


@task("rights.expire_exports")
def expire_exports(payload: dict[str, Any]) -> None:
    services.expire_exports()


@task("rights.sweep_erasures")
def sweep_erasures(payload: dict[str, Any]) -> None:
    services.sweep_erasures()


periodic("rights.expire_exports", every=timedelta(hours=1))
periodic("rights.sweep_erasures", every=timedelta(hours=1))
