"""People's accounts and the browsers they are signed in from."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from safehold.vault import keys
from safehold.vault.fields import (
    BlindIndexField,
    EncryptedIPAddressField,
    EncryptedTextField,
)
from safehold.vault.models import VaultModel, VaultQuerySet

NAME_MAX = 150
ADDRESS_MAX = 500
PHONE_MAX = 20  # E.164: "+" and at most 15 digits
HINT_MAX = 200


class AccountManager(UserManager.from_queryset(VaultQuerySet)):  # type: ignore[misc]  # a dynamic base
    """Django's user manager over the vault's queryset (no bulk writes of personal fields)."""

    use_in_migrations = True


class User(VaultModel, AbstractUser):
    """A person with an account.

    Personal fields are encrypted under the person's own data key (``data_key``, an id
    in the vault's key store); shredding that key erases them everywhere at once. The
    user name and e-mail stay in plain text: sign-in must find them.

    One ``name`` field instead of first and last name: names do not split the same
    way in every culture. ``phone`` is stored in E.164 (``+8613812345678``) and found
    through ``phone_index``. ``password_hint`` is never shown on a page: it is only
    ever e-mailed to the verified primary address (see ``services.send_password_hint``).
    """

    first_name = None  # type: ignore[assignment]  # replaced by `name`
    last_name = None  # type: ignore[assignment]  # replaced by `name`

    data_key = models.CharField(max_length=32, blank=True, editable=False)
    name = EncryptedTextField(pgettext_lazy("a person's", "name"), max_length=NAME_MAX, default="")
    mailing_address = EncryptedTextField(_("mailing address"), max_length=ADDRESS_MAX, default="")
    phone = EncryptedTextField(_("phone"), max_length=PHONE_MAX, default="")
    phone_index = BlindIndexField(source="phone")
    password_hint = EncryptedTextField(_("password hint"), max_length=HINT_MAX, default="")

    vault_key_field = "data_key"

    objects = AccountManager()  # type: ignore[misc]  # the user manager, with the vault queryset

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [("reveal_personal_data", "Can reveal a person's masked personal data")]

    def vault_key_id(self, *, create: bool) -> str | None:
        if not self.data_key and create:
            self.data_key = keys.create_data_key()
        return self.data_key or None

    def key_for_owned_row(self, *, create: bool) -> str | None:
        """The data key of a row this person owns (a session, a record, a disclosure):
        with ``create``, a person without a key gets one, saved at once."""
        if not self.data_key and create:
            self.vault_key_id(create=True)
            self.save(update_fields=["data_key"])
        return self.data_key or None

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name or self.username

    @property
    def has_password_hint(self) -> bool:
        return bool(self.password_hint)


class SignedInSession(VaultModel):
    """One browser signed in to an account: what the session list shows.

    The row lives as long as the Django session it describes; signing it out
    deletes that session from the session store. What it says about the browser
    (parsed from the User-Agent) and where it is (IP address and place) is personal
    data, encrypted under the account owner's data key.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="signed_in_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    browser = EncryptedTextField(_("browser"), max_length=100, default="")
    os = EncryptedTextField(_("operating system"), max_length=100, default="")
    device = EncryptedTextField(_("device"), max_length=100, default="")
    ip_address = EncryptedIPAddressField(_("IP address"))
    # A country code or "local" (see geo.place_name), shown in the reader's language.
    place = EncryptedTextField(_("approximate place"), max_length=8, default="")
    created_at = models.DateTimeField(_("signed in"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("signed-in session")
        verbose_name_plural = _("signed-in sessions")
        ordering = ("-last_seen_at",)

    def __str__(self) -> str:
        return f"session {self.pk} of user {self.user_id}"

    def vault_key_id(self, *, create: bool) -> str | None:
        return self.user.key_for_owned_row(create=create)
