"""The privacy statement's versions, their texts, and people's acknowledgements.

A version is a draft until it is published (``services.publish_version``); from then
on it and its texts never change (``save`` and ``delete`` refuse, the admin shows it
read-only): a correction is a new version. The version in force is the latest
published one whose ``effective_at`` has come (``services.current_version``), so a
version published with a future date takes over by itself when that date comes.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from safehold.policy.exceptions import VersionImmutable

#: Languages a statement text can be written in: the site's languages.
TEXT_LANGUAGES = [code for code, _name in settings.LANGUAGES]
FALLBACK_LANGUAGE = "en"
BODY_MAX = 100_000
SUMMARY_MAX = 2_000


def _stored_is_published(pk: int | None) -> bool:
    """Whether the stored row (not the instance in hand) is published."""
    if pk is None:
        return False
    return StatementVersion.objects.filter(pk=pk, published_at__isnull=False).exists()


class StatementVersion(models.Model):
    """One version of the privacy statement (its texts are ``StatementText`` rows).

    ``number`` is 1, 2, 3... in order of creation and is the version's stable name
    (``/privacy/v3``). ``cookie_section_changed`` says the cookie section differs
    from the version before: staff may tick it on a draft, and publishing sets it
    when any language's cookie section (the Markdown section headed ``{#cookies}``)
    differs from the previous published version's (the consent app asks again).
    """

    number = models.PositiveIntegerField(_("number"), unique=True, editable=False)
    material = models.BooleanField(
        _("material change"),
        default=False,
        help_text=_("Signed-in people must acknowledge a material version once it is in force."),
    )
    cookie_section_changed = models.BooleanField(
        _("cookie section changed"),
        default=False,
        help_text=_(
            "Set on publication when the cookie section differs from the previous "
            "version; tick it to ask for cookie choices again anyway."
        ),
    )
    effective_at = models.DateTimeField(_("effective from"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        verbose_name = _("statement version")
        verbose_name_plural = _("statement versions")
        permissions = [
            ("publish_version", "Can publish a version of the privacy statement"),
            ("preview_version", "Can preview a draft of the privacy statement"),
        ]
        indexes = [models.Index(fields=["published_at", "effective_at"])]

    def __str__(self) -> str:
        return f"v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save a draft. Raises ``VersionImmutable`` for a version already published."""
        if _stored_is_published(self.pk):
            raise VersionImmutable(self.number)
        if self.number is None:
            last = type(self).objects.aggregate(models.Max("number"))["number__max"] or 0
            self.number = last + 1
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        """Delete a draft. Raises ``VersionImmutable`` for a published version."""
        if _stored_is_published(self.pk):
            raise VersionImmutable(self.number)
        return super().delete(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class StatementText(models.Model):
    """A version's text in one language: Markdown, rendered sanitised (``rendering``)."""

    version = models.ForeignKey(
        StatementVersion, on_delete=models.CASCADE, related_name="texts", verbose_name=_("version")
    )
    language = models.CharField(_("language"), max_length=16, choices=settings.LANGUAGES)
    summary = models.TextField(
        _("summary of changes"), max_length=SUMMARY_MAX, blank=True, default=""
    )
    body = models.TextField(_("text (Markdown)"), max_length=BODY_MAX)

    class Meta:
        verbose_name = _("statement text")
        verbose_name_plural = _("statement texts")
        constraints = [
            models.UniqueConstraint(fields=["version", "language"], name="policy_text_one_per_lang")
        ]

    def __str__(self) -> str:
        return f"v{self.version.number} [{self.language}]"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save a draft's text. Raises ``VersionImmutable`` once its version is published."""
        if _stored_is_published(self.version_id):
            raise VersionImmutable(self.version.number)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if _stored_is_published(self.version_id):
            raise VersionImmutable(self.version.number)
        return super().delete(*args, **kwargs)


class Acknowledgement(models.Model):
    """A person acknowledged a (material) version: who, which, when."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="statement_acks"
    )
    version = models.ForeignKey(
        StatementVersion, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"))

    class Meta:
        ordering = ["-acknowledged_at"]
        verbose_name = _("acknowledgement")
        verbose_name_plural = _("acknowledgements")
        constraints = [models.UniqueConstraint(fields=["user", "version"], name="policy_ack_once")]

    def __str__(self) -> str:
        return f"acknowledgement of v{self.version_id}"


class NoticePreference(models.Model):
    """A person's choice to be e-mailed when a new version takes effect (off by default)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="statement_notice"
    )
    email_on_new_version = models.BooleanField(_("e-mail me about new versions"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "statement notice preference"


class Announcement(models.Model):
    """One "new version" e-mail sent to one person: makes the mailing task idempotent."""

    version = models.ForeignKey(
        StatementVersion, on_delete=models.PROTECT, related_name="announcements"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="statement_announcements"
    )
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "user"], name="policy_announce_once")
        ]

    def __str__(self) -> str:
        return f"announcement of v{self.version_id}"
