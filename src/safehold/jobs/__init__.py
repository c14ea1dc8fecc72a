"""Background jobs: register a task, enqueue it, and ``safehold worker`` runs it.

    from safehold.jobs import task, enqueue

    @task("rights.export")                      # in the app's tasks.py, imported in ready()
    def build_export(payload: dict) -> None:    # payload holds ids, never personal data
        ...

    enqueue("rights.export", {"export_id": 7}, dedupe_key="export:7")

A task must be idempotent: a worker killed mid-job leaves the job leased, and after
the lease runs out another worker runs it again from the start. A task that raises
is retried with backoff up to ``max_attempts`` and then shows as failed to staff.

Periodic work (retention purges, backups, scheduled statement versions) registers
with ``periodic(name, every=timedelta(...))``; the worker enqueues it when due.
"""

from safehold.jobs.queue import enqueue, periodic, task

__all__ = ["enqueue", "periodic", "task"]
