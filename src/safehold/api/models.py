"""API keys and stored idempotent responses.

A key's secret is never stored: only its SHA-256 (the secret is 32 random bytes,
so a fast hash cannot be guessed back), and a public prefix to find and name it.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    class Kind(models.TextChoices):
        SERVER = "server", _("server key (secret, for the operator's back-end systems)")
        SITE = "site", _("public site key (in web pages, for the consent script)")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SERVER)
    # Shown in lists and in the token itself; identifies the key, grants nothing.
    prefix = models.CharField(_("prefix"), max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    # Web origins ("https://www.example.com") whose pages may call the API with this
    # key from a browser (CORS); a site key is refused from any other origin.
    allowed_origins = models.JSONField(_("allowed origins"), default=list, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.display_prefix}…)"

    @property
    def display_prefix(self) -> str:
        """The start of the token, which names the key without revealing it."""
        return f"sh_{'site' if self.kind == self.Kind.SITE else 'live'}_{self.prefix}"

    def status_at(self, now: datetime) -> str:
        """``revoked``, ``expired`` or ``active`` at ``now``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


class IdempotencyRecord(models.Model):
    """The answer given to one ``Idempotency-Key``, replayed to a retry for 24 hours.

    ``owner`` is the caller (``key:<id>`` or ``user:<id>``): keys of different
    callers never collide. ``fingerprint`` is the SHA-256 of the method, path and
    body, so that reusing a key for a different request is refused.
    """

    owner = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    # Null while the first request is still being processed.
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="api_idempotency_owner_key")
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.key[:20]}"
