"""Exports of a person's data, erasure requests, and the tombstones erasure leaves.

None of these rows holds personal data in plain text: an export's archive is a file
sealed under a key of its own (``wrapped_key``), itself sealed under the person's
data key; a tombstone holds an id, a time and a reason code.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from safehold.accounts.models import User


class Export(models.Model):
    """One "download my data" archive, from the request to its expiry."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        BUILDING = "building", _("Being prepared")
        READY = "ready", _("Ready to download")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    class Via(models.TextChoices):
        ACCOUNT = "account", _("Your account page")
        API = "api", _("The operator's systems (API)")

    #: The id the person, the pages and the API see (not guessable, unlike ``pk``).
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="exports")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.ACCOUNT)
    requested_at = models.DateTimeField()
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)
    #: The language the readable page is written in (the asker's at the time).
    language = models.CharField(max_length=16, default="en")
    #: Where the site was reached (``https://host``), for the link in the e-mail.
    site_url = models.CharField(max_length=200, blank=True)
    #: The archive's key (AES-256), sealed under the person's data key.
    wrapped_key = models.BinaryField(null=True, blank=True, editable=False)
    #: The sealed archive's file in SAFEHOLD_EXPORT_DIR (random; set when ready).
    archive_name = models.CharField(max_length=100, blank=True, editable=False)
    size = models.BigIntegerField(null=True, blank=True)
    #: Row counts per part of the export (no personal data).
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ("-requested_at", "-pk")
        indexes = [models.Index(fields=["status", "expires_at"], name="rights_export_expiry")]

    def __str__(self) -> str:
        return f"export {self.public_id} of user {self.user_id} ({self.status})"


class Erasure(models.Model):
    """A request to erase a person, from the request to its completion or cancellation."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the grace period to end")
        CANCELLED = "cancelled", _("Cancelled")
        ERASING = "erasing", _("Being erased")
        COMPLETED = "completed", _("Completed")

    class Reason(models.TextChoices):
        PERSON = "person-request", _("The person asked on their account page")
        STAFF = "staff-request", _("The person asked staff (another channel)")
        LEGAL = "legal", _("A legal obligation")
        UNVERIFIED = "unverified-sign-up", _("A sign-up never verified (retention)")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="erasures")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=30, choices=Reason.choices)
    requested_at = models.DateTimeField()
    erase_after = models.DateTimeField(db_index=True)
    #: The staff member who asked for it (``None`` when the person did, or retention).
    requested_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    #: Rows removed or minimised, per eraser (no personal data).
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        ordering = ("-requested_at", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status__in=["pending", "erasing"]),
                name="rights_one_open_erasure_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"erasure {self.pk} of user {self.user_id} ({self.status})"


class Tombstone(models.Model):
    """What is left of an erased person: that someone with this id was erased, when, why.

    ``user_id`` is a plain number, not a foreign key: the tombstone must outlive
    anything that would cascade.
    """

    user_id = models.BigIntegerField(unique=True)
    erased_at = models.DateTimeField()
    reason = models.CharField(max_length=30, choices=Erasure.Reason.choices)

    class Meta:
        verbose_name = _("tombstone")
        verbose_name_plural = _("tombstones")
        ordering = ("-erased_at",)

    def __str__(self) -> str:
        return f"tombstone of user {self.user_id}"
