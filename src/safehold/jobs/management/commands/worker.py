"""``safehold worker``: run background jobs until stopped (or, with ``--once``, until
none is due)."""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections

from safehold.jobs import queue, worker
from safehold.jobs.models import Job

logger = logging.getLogger("safehold.jobs")

#: How often a busy worker looks for due periodic tasks (an idle one: every poll).
PERIODIC_CHECK_SECONDS = 1.0


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
        scheduled_at = -PERIODIC_CHECK_SECONDS
        job: Job | None = None
        while not stopping.is_set() or job is not None:
            try:
                if job is None:
                    if time.monotonic() - scheduled_at >= min(poll, PERIODIC_CHECK_SECONDS):
                        worker.schedule_periodic()
                        scheduled_at = time.monotonic()
                    job = worker.claim_next(worker_id=worker_id)
                if job is not None:
                    result = worker.execute(job)
                    # Claim the next job with this one's outcome (one commit), unless
                    # stopping or periodic tasks are to be looked at first.
                    more = (
                        not stopping.is_set()
                        and time.monotonic() - scheduled_at < PERIODIC_CHECK_SECONDS
                    )
                    _outcome, job = worker.finish_and_claim(
                        job, result, worker_id=worker_id, claim=more
                    )
                    failing = False
                    continue
            except DatabaseError as exc:
                # Database down or restarting: say so once, then keep trying. A job
                # whose outcome was not written runs again when its lease ends.
                job = None
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
            # Idle (or failing): drop a connection that is too old or broken. Not
            # between jobs, where CONN_MAX_AGE=0 (SQLite) would reconnect every time.
            close_old_connections()
            stopping.wait(poll)
        close_old_connections()
        logger.info("worker %s: stopped", worker_id)
