"""Recipients, the consents people give to share with them, disclosures, legal requests.

What a disclosure *released* is never stored here: a ``Disclosure`` names the
recipient, the person, the category names, the basis and the time, and seals the
justification under the person's data key. The values themselves left once, in the
package the gate handed over.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from safehold.vault.fields import EncryptedTextField
from safehold.vault.models import VaultModel


class Category(models.TextChoices):
    """What the gate can release about a person; each is read as ``categories.read`` says."""

    NAME = "name", pgettext_lazy("a person's", "name")
    USERNAME = "username", _("user name")
    EMAIL = "email", _("e-mail address")
    MAILING_ADDRESS = "mailing_address", _("mailing address")
    PHONE = "phone", _("phone number")
    ACCESS_RECORDS = "access_records", _("access records")
    DEVICES = "devices", _("devices (IP address, browser and operating system)")
    PAYMENTS = "payments", _("payment records")


class Basis(models.TextChoices):
    """Why data may leave: the person's consent, or one of the statement's four exceptions."""

    CONSENT = "consent", _("your consent")
    LEGAL = "legal", _("to comply with the law or a legal procedure")
    TERMS = "terms", _("under the user agreement and terms of service")
    OPERATIONS = "operations", _("to run the site and keep it safe")
    USER_INTEREST = "user-interest", _("to protect the interests of users")


#: The four exceptions of the statement: every basis but consent.
EXCEPTIONS = frozenset({Basis.LEGAL, Basis.TERMS, Basis.OPERATIONS, Basis.USER_INTEREST})


class Recipient(models.Model):
    """A third party that data may go to, and on which terms (managed by staff in the admin)."""

    slug = models.SlugField(
        _("identifier"),
        max_length=60,
        unique=True,
        help_text=_("How the operator's systems name this recipient in the API; never changes."),
    )
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(
        _("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2 code, for example CN or DE.")
    )
    contact = models.CharField(_("contact"), max_length=300, blank=True)
    basis = models.CharField(
        _("basis"),
        max_length=20,
        choices=Basis.choices,
        default=Basis.CONSENT,
        help_text=_("Consent from each person, or the one exception this sharing rests on."),
    )
    categories = models.JSONField(
        _("categories it may receive"), default=list, help_text=_("Names of data categories.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    @property
    def needs_consent(self) -> bool:
        return self.basis == Basis.CONSENT

    def category_labels(self) -> list[str]:
        labels = dict(Category.choices)
        return [str(labels.get(c, c)) for c in self.categories]


class SharingPurpose(models.Model):
    """One purpose a recipient receives data for, described in plain words for the person."""

    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE, related_name="purposes")
    code = models.SlugField(_("identifier"), max_length=60)
    description = models.CharField(
        _("description in plain words"),
        max_length=500,
        help_text=_("What the person is asked, for example: 'to deliver your orders'."),
    )

    class Meta:
        verbose_name = _("purpose")
        verbose_name_plural = _("purposes")
        ordering = ("recipient__name", "code")
        constraints = [
            models.UniqueConstraint(fields=["recipient", "code"], name="sharing_purpose_unique")
        ]

    def __str__(self) -> str:
        return f"{self.recipient.name}: {self.description}"


class ShareConsent(models.Model):
    """One grant or withdrawal of consent to a recipient-and-purpose. Rows are only added:
    the newest row for a (person, purpose) is the consent now; the rest is its history."""

    class Action(models.TextChoices):
        GRANTED = "granted", _("given")
        WITHDRAWN = "withdrawn", _("withdrawn")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_consents"
    )
    purpose = models.ForeignKey(SharingPurpose, on_delete=models.PROTECT, related_name="consents")
    action = models.CharField(max_length=10, choices=Action.choices)
    # The words the person was shown when they decided (the description may change later).
    wording = models.CharField(max_length=500)
    at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("consent to share")
        verbose_name_plural = _("consents to share")
        ordering = ("-at", "-id")
        indexes = [models.Index(fields=["user", "purpose", "-at"], name="sharing_consent_latest")]

    def __str__(self) -> str:
        return f"{self.action} by user {self.user_id} for purpose {self.purpose_id}"


class LegalRequest(VaultModel):
    """A request from an authority (exception 1), approved by a second legal-role staff member.

    The attached document and its file name are sealed under the data key of the
    person the request is about.
    """

    class AuthorityType(models.TextChoices):
        POLICE = "police", _("police or law enforcement")
        COURT = "court", _("court")
        REGULATOR = "regulator", _("regulator")
        TAX = "tax", _("tax authority")
        OTHER = "other", _("other government agency")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for approval")
        APPROVED = "approved", _("approved, not yet released")
        REJECTED = "rejected", _("rejected")
        RELEASED = "released", _("released")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="legal_requests"
    )
    authority_name = models.CharField(_("authority"), max_length=200)
    authority_type = models.CharField(
        _("type of authority"), max_length=20, choices=AuthorityType.choices
    )
    instrument = models.CharField(
        _("legal instrument"),
        max_length=200,
        help_text=_("For example: court order, warrant, production order, statutory notice."),
    )
    reference = models.CharField(_("reference"), max_length=200)
    categories = models.JSONField(_("categories"), default=list)
    period_start = models.DateField(_("period from"), null=True, blank=True)
    period_end = models.DateField(_("period to"), null=True, blank=True)
    document_name = EncryptedTextField(max_length=255, default="")
    document = EncryptedTextField(default="")  # base64 of the file
    document_size = models.PositiveIntegerField(default=0)
    document_sha256 = models.CharField(max_length=64, blank=True)
    # A non-disclosure order: the person is not told until the review date.
    gag_review_date = models.DateField(
        _("non-disclosure order: review date"), null=True, blank=True
    )
    gag_reminded_on = models.DateField(null=True, blank=True)
    person_notified_at = models.DateTimeField(null=True, blank=True)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    approval_expires_at = models.DateTimeField(null=True, blank=True)
    # HMAC over the approval and the scope it covers (services.approval_signature).
    approval_signature = models.CharField(max_length=64, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("legal request")
        verbose_name_plural = _("legal requests")
        ordering = ("-requested_at",)
        permissions = [
            ("approve_legal_request", "Can record, approve and release legal requests"),
        ]

    def __str__(self) -> str:
        return f"legal request {self.pk}"

    def vault_key_id(self, *, create: bool) -> str | None:
        return self.person.key_for_owned_row(create=create)

    def category_labels(self) -> list[str]:
        labels = dict(Category.choices)
        return [str(labels.get(c, c)) for c in self.categories]


class Disclosure(VaultModel):
    """One release of a person's data to a recipient: what the person sees on their page."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="disclosures"
    )
    recipient = models.ForeignKey(
        Recipient, on_delete=models.PROTECT, null=True, blank=True, related_name="disclosures"
    )
    # The recipient's or authority's name at the time (a registry entry may be renamed).
    recipient_name = models.CharField(max_length=200)
    purpose = models.ForeignKey(
        SharingPurpose, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    legal_request = models.ForeignKey(
        LegalRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="disclosures"
    )
    categories = models.JSONField(default=list)
    basis = models.CharField(max_length=20, choices=Basis.choices)
    justification = EncryptedTextField(max_length=2000, default="")
    released_at = models.DateTimeField(db_index=True)
    # Hidden from the person until this date (a non-disclosure order); None: visible.
    hidden_until = models.DateField(null=True, blank=True)
    actor_kind = models.CharField(max_length=20)
    actor_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("disclosure")
        verbose_name_plural = _("disclosures")
        ordering = ("-released_at", "-id")

    def __str__(self) -> str:
        return f"disclosure {self.pk}"

    def vault_key_id(self, *, create: bool) -> str | None:
        return self.user.key_for_owned_row(create=create)

    def category_labels(self) -> list[str]:
        labels = dict(Category.choices)
        return [str(labels.get(c, c)) for c in self.categories]
