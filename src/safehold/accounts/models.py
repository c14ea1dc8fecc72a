"""People's accounts and the browsers they are signed in from."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

NAME_MAX = 150
ADDRESS_MAX = 500
PHONE_MAX = 20  # E.164: "+" and at most 15 digits
HINT_MAX = 200


class User(AbstractUser):
    """A person with an account.

    One ``name`` field instead of first and last name: names do not split the same
    way in every culture. ``phone`` is stored in E.164 (``+8613812345678``).
    ``password_hint`` is never shown on a page: it is only ever e-mailed to the
    verified primary address (see ``services.send_password_hint``).
    """

    first_name = None  # type: ignore[assignment]  # replaced by `name`
    last_name = None  # type: ignore[assignment]  # replaced by `name`

    name = models.CharField(pgettext_lazy("a person's", "name"), max_length=NAME_MAX, blank=True)
    mailing_address = models.TextField(_("mailing address"), max_length=ADDRESS_MAX, blank=True)
    phone = models.CharField(_("phone"), max_length=PHONE_MAX, blank=True)
    password_hint = models.CharField(_("password hint"), max_length=HINT_MAX, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name or self.username

    @property
    def has_password_hint(self) -> bool:
        return bool(self.password_hint)


class SignedInSession(models.Model):
    """One browser signed in to an account: what the session list shows.

    The row lives as long as the Django session it describes; signing it out
    deletes that session from the session store.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="signed_in_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    browser = models.CharField(_("browser"), max_length=100, blank=True)
    os = models.CharField(_("operating system"), max_length=100, blank=True)
    device = models.CharField(_("device"), max_length=100, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    # A country code or "local" (see geo.place_name), shown in the reader's language.
    place = models.CharField(_("approximate place"), max_length=8, blank=True)
    created_at = models.DateTimeField(_("signed in"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("signed-in session")
        verbose_name_plural = _("signed-in sessions")
        ordering = ("-last_seen_at",)

    def __str__(self) -> str:
        return f"{self.browser or '?'} on {self.os or '?'}"
