"""Operations: the backups made, maintenance mode, and breach incidents."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Backup(models.Model):
    """One backup file made by ``safehold backup`` or the scheduled task.

    Only the file's name, size, checksum and times are kept here; the file itself
    lives in the backup directory (or wherever the operator wrote it).
    """

    class Kind(models.TextChoices):
        MANUAL = "manual", _("manual")
        SCHEDULED = "scheduled", _("scheduled")

    path = models.CharField(_("file"), max_length=1000)
    backup_id = models.CharField(_("backup id"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(_("made"))
    size = models.BigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("checksum (SHA-256)"), max_length=64)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    verified_ok = models.BooleanField(_("verification passed"), null=True)
    pruned_at = models.DateTimeField(_("removed by the retention rule"), null=True, blank=True)

    class Meta:
        verbose_name = _("backup")
        verbose_name_plural = _("backups")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"backup {self.backup_id}"


class MaintenanceState(models.Model):
    """The single row (id 1) that says whether the site is in maintenance mode.

    It lives in the database so that every app server sees the same state; the
    middleware caches it for a few seconds.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    is_on = models.BooleanField(default=False)
    message = models.TextField(blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    retry_after = models.PositiveIntegerField(default=3600)  # seconds, for Retry-After

    class Meta:
        verbose_name = _("maintenance mode")
        verbose_name_plural = _("maintenance mode")

    def __str__(self) -> str:
        return "maintenance on" if self.is_on else "maintenance off"


class Incident(models.Model):
    """A personal-data breach, from discovery to the authority's notification.

    ``summary`` and ``advice`` are what every affected person is told, in the site's
    default language; ``translations`` holds them in other languages
    (``{"zh-hans": {"summary": ..., "advice": ...}}``). They must name no one.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        NOTIFYING = "notifying", _("notifying people")
        CLOSED = "closed", _("closed")

    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(
        _("what happened"), help_text=_("Told to every affected person; name no one.")
    )
    advice = models.TextField(
        _("what people should do"),
        blank=True,
        default="",
        help_text=_("Told to every affected person, after what happened."),
    )
    translations = models.JSONField(_("translations"), default=dict, blank=True)
    discovered_at = models.DateTimeField(_("discovered"))
    occurred_from = models.DateTimeField(_("breach window starts"), null=True, blank=True)
    occurred_until = models.DateTimeField(_("breach window ends"), null=True, blank=True)
    data_categories = models.JSONField(_("data categories"), default=list)
    notify_authority_by = models.DateTimeField(_("notify the authority by"))
    authority_notified_at = models.DateTimeField(_("authority notified"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("opened"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ("-discovered_at",)
        permissions = [
            ("notify_incident", "Can find affected people and send breach notices"),
            ("export_incident", "Can export an incident's timeline"),
        ]

    def __str__(self) -> str:
        return f"incident {self.pk}: {self.title}"


class AffectedPerson(models.Model):
    """Someone an incident affects, and whether they have been told."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("why affected"), max_length=64)  # "audit-window", "chosen"
    language = models.CharField(_("language"), max_length=16)
    added_at = models.DateTimeField(_("added"), auto_now_add=True)
    notified_at = models.DateTimeField(_("notified"), null=True, blank=True)

    class Meta:
        verbose_name = _("affected person")
        verbose_name_plural = _("affected people")
        constraints = [
            models.UniqueConstraint(fields=["incident", "user"], name="ops_affected_once")
        ]

    def __str__(self) -> str:
        return f"person {self.user_id} in incident {self.incident_id}"
