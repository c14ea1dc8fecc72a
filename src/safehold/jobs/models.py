"""The job queue: one table, so the embedded default needs no other server."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    name = models.CharField(_("task"), max_length=100, db_index=True)
    # Ids and options only, never personal data in plain text.
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    run_at = models.DateTimeField(_("due"), db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveIntegerField(_("attempt limit"), default=5)
    # A claimed job is leased: if its worker dies, the lease runs out and another
    # worker takes the job again.
    locked_by = models.CharField(_("worker"), max_length=100, blank=True)
    locked_until = models.DateTimeField(_("leased until"), null=True, blank=True)
    # The kind of the last failure and a message without personal data.
    last_error = models.TextField(_("last error"), blank=True)
    # At most one queued or running job per key (for example one export per person).
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # A failed job stays "unacknowledged" (the promise check reports it) until a
    # staff member retries it or marks it seen.
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        indexes = [
            models.Index(fields=["status", "run_at"]),
            models.Index(fields=["status", "locked_until"], name="jobs_job_status_lease_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=models.Q(status__in=["queued", "running"]) & ~models.Q(dedupe_key=""),
                name="jobs_one_pending_per_dedupe_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk} ({self.status})"


class PeriodicSchedule(models.Model):
    """When a ``periodic`` task is next due: one row per task, claimed under a lock,
    so that however many workers run, each period's job is enqueued once."""

    name = models.CharField(_("task"), max_length=100, unique=True)
    next_run_at = models.DateTimeField(_("next run"))
    last_enqueued_at = models.DateTimeField(_("last enqueued"), null=True, blank=True)

    class Meta:
        verbose_name = _("periodic task")
        verbose_name_plural = _("periodic tasks")

    def __str__(self) -> str:
        return self.name
