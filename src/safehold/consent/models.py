"""Cookie categories (set by staff) and proof-of-consent records (one per choice).

A record is pseudonymous: a random visitor id from a strictly necessary cookie, never
a name, and the client IP truncated to its network (/24 for IPv4, /48 for IPv6) before
it is stored. When the visitor signs in, their records are joined to their account.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    """A kind of cookie a visitor can allow or refuse (or, if necessary, only read about)."""

    slug = models.SlugField(
        _("identifier"),
        max_length=40,
        unique=True,
        help_text=_("Used in the API and in the embed's data-category attribute; never change it."),
    )
    name_en = models.CharField(_("name (English)"), max_length=80)
    name_zh = models.CharField(_("name (Chinese)"), max_length=80)
    description_en = models.TextField(_("description (English)"))
    description_zh = models.TextField(_("description (Chinese)"))
    is_necessary = models.BooleanField(
        _("strictly necessary"),
        default=False,
        help_text=_("Always on: the site cannot work without it. The visitor is told, not asked."),
    )
    is_sale_or_sharing = models.BooleanField(
        _("sale or sharing"),
        default=False,
        help_text=_("Turned off by a Global Privacy Control signal (marketing)."),
    )
    cookies = models.TextField(
        _("cookies"),
        blank=True,
        help_text=_(
            "One cookie name per line. Safehold deletes these when the category is refused."
        ),
    )
    scripts = models.TextField(
        _("scripts"),
        blank=True,
        help_text=_(
            "One script address per line (on this server, e.g. /static/...), loaded on "
            "Safehold's pages only when the category is allowed."
        ),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("cookie category")
        verbose_name_plural = _("cookie categories")
        ordering = ["order", "slug"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en

    @property
    def description(self) -> str:
        return (
            self.description_zh if (get_language() or "").startswith("zh") else self.description_en
        )

    @property
    def cookie_names(self) -> list[str]:
        return [line.strip() for line in self.cookies.splitlines() if line.strip()]

    @property
    def script_urls(self) -> list[str]:
        return [line.strip() for line in self.scripts.splitlines() if line.strip()]


class ConsentRecord(models.Model):
    """Proof of one choice: who (pseudonymously), when, what, how and under which texts."""

    class Method(models.TextChoices):
        BANNER = "banner", _("banner")
        SETTINGS = "settings", _("settings page")
        GPC = "gpc", _("Global Privacy Control")
        API = "api", _("API")

    visitor_id = models.CharField(_("visitor id"), max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="consent_records",
    )
    # The site key the choice came through (an embedding site); empty: Safehold's own pages.
    site = models.ForeignKey(
        "api.ApiKey",
        verbose_name=_("site"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"))
    # {category slug: allowed}, every category configured at the time, necessary ones true.
    choices = models.JSONField(_("choices"))
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    # The choice was made while the browser sent a Global Privacy Control signal.
    gpc = models.BooleanField(_("GPC signal"), default=False)
    statement_version = models.PositiveIntegerField(_("statement version"), null=True, blank=True)
    cookie_section_version = models.PositiveIntegerField(_("cookie section version"), default=0)
    categories_version = models.CharField(_("categories version"), max_length=16)
    banner_version = models.CharField(_("banner text version"), max_length=16)
    language = models.CharField(_("language"), max_length=10, blank=True)
    ip_network = models.CharField(_("IP network (truncated)"), max_length=49, blank=True)

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["visitor_id", "-id"], name="consent_visitor_latest"),
            models.Index(fields=["created_at"], name="consent_created"),
        ]

    def __str__(self) -> str:
        return f"{self.visitor_id[:8]}… {self.method} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def allowed(self) -> list[str]:
        return sorted(slug for slug, allowed in self.choices.items() if allowed)
