"""What Safehold records about a person's use of it: access records, payments, devices.

Every row belongs to a person and what it says about them is sealed under that
person's data key (shredding the key erases it). Times, kinds and results stay in
plain text: the account centre filters and pages on them and retention purges by
time, and alone they say nothing about who the person is.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from safehold.accounts.models import User
from safehold.vault.fields import EncryptedIPAddressField, EncryptedJSONField, EncryptedTextField
from safehold.vault.models import VaultModel


class _OwnedByPerson(VaultModel):
    """A row sealed under its ``user``'s data key (the pattern of ``SignedInSession``)."""

    user: models.ForeignKey[Any, Any]

    class Meta:
        abstract = True

    def vault_key_id(self, *, create: bool) -> str | None:
        if self.user_id is None:  # type: ignore[attr-defined]  # the concrete model's FK  # a minimised payment: nothing sealed is left on it
            return None
        return self.user.key_for_owned_row(create=create)


class AccessRecord(_OwnedByPerson):
    """One access to a person's account: a sign-in, a failed sign-in, a visit to a page.

    ``details`` holds, sealed together in one ciphertext (one decryption per row, so
    an export of 100,000 rows stays fast): ``path`` (the page, without a query
    string), ``browser``, ``os``, ``ip`` and ``place`` (a country code or "local").
    Read them through the properties of the same names.
    """

    class Kind(models.TextChoices):
        SIGN_IN = "sign-in", _("Sign-in")
        SIGN_IN_FAILED = "sign-in-failed", _("Failed sign-in")
        PAGE_VISIT = "page-visit", _("Page visit")

    class Result(models.TextChoices):
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_records")
    at = models.DateTimeField(_("time"), db_index=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    result = models.CharField(_("result"), max_length=10, choices=Result.choices)
    details = EncryptedJSONField(_("details"), default=dict)

    class Meta:
        verbose_name = _("access record")
        verbose_name_plural = _("access records")
        ordering = ("-at", "-pk")
        indexes = [models.Index(fields=["user", "-at"], name="activity_access_user_at")]

    def __str__(self) -> str:
        return f"access record {self.pk} of user {self.user_id}"

    def _detail(self, name: str) -> str:
        details = self.details
        return str(details.get(name) or "") if isinstance(details, dict) else ""

    @property
    def path(self) -> str:
        return self._detail("path")

    @property
    def browser(self) -> str:
        return self._detail("browser")

    @property
    def os(self) -> str:
        return self._detail("os")

    @property
    def ip_address(self) -> str:
        return self._detail("ip")

    @property
    def place(self) -> str:
        return self._detail("place")


class Payment(_OwnedByPerson):
    """One payment operation: only what is needed afterwards, never card data.

    ``token``, ``brand`` and ``last4`` come from the payment processor and are sealed
    under the person's key; amount, currency, status and time are plain because they
    are kept by law for accounting after the person is erased, detached from them
    (``user`` is then null and the sealed fields empty).
    """

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", _("Paid")
        DECLINED = "declined", _("Declined")

    user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="payments"
    )
    created_at = models.DateTimeField(_("time"), db_index=True)
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    processor = models.CharField(_("processor"), max_length=50)
    token = EncryptedTextField(_("processor token"), max_length=200, default="")
    brand = EncryptedTextField(_("card brand"), max_length=30, default="")
    last4 = EncryptedTextField(_("last four digits"), max_length=4, default="")
    decline_code = models.CharField(_("decline reason"), max_length=40, blank=True, default="")
    # The payment form's one-time key: a second submission of the same form (a double
    # click, a reload) finds this row instead of charging the card again.
    form_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    minimised_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"payment {self.pk}"


class Device(_OwnedByPerson):
    """A browser a person has signed in from, known by a long-lived device cookie.

    The cookie holds a random token; only its SHA-256 (``token_hash``) is stored, so
    the database cannot be used to impersonate a device. A browser shared by two
    people is two devices, one per person.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="devices")
    token_hash = models.CharField(max_length=64, editable=False)
    name = EncryptedTextField(_("name"), max_length=60, default="")
    browser = EncryptedTextField(_("browser"), max_length=100, default="")
    os = EncryptedTextField(_("operating system"), max_length=100, default="")
    ip_address = EncryptedIPAddressField(_("IP address"))
    place = EncryptedTextField(_("approximate place"), max_length=8, default="")
    first_seen_at = models.DateTimeField(_("first seen"))
    last_seen_at = models.DateTimeField(_("last seen"), db_index=True)
    # When the IP address was last written; retention blanks it after a while.
    ip_seen_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ("-last_seen_at", "-pk")
        constraints = [
            models.UniqueConstraint(fields=["user", "token_hash"], name="activity_device_once")
        ]

    def __str__(self) -> str:
        return f"device {self.pk} of user {self.user_id}"
