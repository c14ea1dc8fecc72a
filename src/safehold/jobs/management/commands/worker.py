"""``safehold worker``: run background jobs until stopped (or, with ``--once``, until
none is due)."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections

from safehold.jobs import queue, worker

logger = logging.getLogger("safehold.jobs")


class Command(BaseCommand):
    help = (
        "Run background jobs (exports, deletions, retention purges, mail). Several "
        "workers may run at once on PostgreSQL. SIGTERM or Ctrl-C stops after the "
        "current job."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="run every due job (and due periodic task), then exit",
        )
        parser.add_argument(
            "--poll",
            type=float,
            default=None,
            help="seconds between polls when idle (default SAFEHOLD_JOBS_POLL_SECONDS)",
        )
        parser.add_argument(
            "--id", default="", help="this worker's name in the queue (default host:pid)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        poll = (
            options["poll"] if options["poll"] is not None else settings.SAFEHOLD_JOBS_POLL_SECONDS
        )
        if not 0.05 <= poll <= 3600:
            raise CommandError(f"--poll must be between 0.05 and 3600 seconds, not {poll}")
        worker_id = options["id"] or worker.default_worker_id()
        if options["once"]:
            queued = worker.schedule_periodic()
            ran = worker.run_pending(worker_id=worker_id)
            self.stdout.write(
                f"{ran} job{'s' if ran != 1 else ''} run"
                + (f" ({len(queued)} periodic enqueued)" if queued else "")
            )
            return
        self._loop(worker_id, poll)

    def _loop(self, worker_id: str, poll: float) -> None:
        stopping = threading.Event()

        def stop(signum: int, frame: FrameType | None) -> None:
            if stopping.is_set():
                # Asked twice: stop now. The current job's lease runs out and it runs again.
                raise SystemExit(1)
            stopping.set()
            logger.info("worker %s: stopping after the current job", worker_id)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        logger.info(
            "worker %s: started (tasks: %d, periodic: %d), polling every %g s",
            worker_id,
            len(queue.registered_tasks()),
            len(queue.periodic_tasks()),
            poll,
        )
        failing = False
        while not stopping.is_set():
            close_old_connections()
            try:
                worker.schedule_periodic()
                job = worker.claim_next(worker_id=worker_id)
                if job is not None:
                    worker.run_job(job)
                    failing = False
                    continue
            except DatabaseError as exc:
                # Database down or restarting: say so once, then keep trying.
                if not failing:
                    logger.error(
                        "worker %s: database error (%s), retrying every %g s",
                        worker_id,
                        type(exc).__name__,
                        poll,
                    )
                failing = True
            else:
                failing = False
            stopping.wait(poll)
        close_old_connections()
        logger.info("worker %s: stopped", worker_id)
