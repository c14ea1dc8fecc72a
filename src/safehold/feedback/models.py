"""Messages sent through "Contact us", the staff's replies and their internal notes.

Whose key: every message has a data key of its own (``ContactMessage.data_key``), and
its replies and notes are sealed under it too. An anonymous sender has no account and so
no personal data key; a key per message gives their words, name and address the same
protection, and lets one message be erased on its own (its key shredded) whoever sent
it. A signed-in person's messages are erased with them by the feedback eraser, which
deletes the rows and shreds each message's key (``services.erase_messages_of``).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from safehold.vault import keys
from safehold.vault.fields import BlindIndexField, EncryptedTextField
from safehold.vault.models import VaultModel

NAME_MAX = 150
EMAIL_MAX = 254
REFERENCE_LENGTH = 13  # SH-XXXX-XXXX


def fold_email(address: str) -> str:
    """An address as compared: trimmed, case folded (for the blind index and rate limits)."""
    return address.strip().casefold()


class Category(models.TextChoices):
    COMMENT = "comment", _("Comment")
    SUGGESTION = "suggestion", _("Suggestion")
    PRIVACY_QUESTION = "privacy-question", _("Privacy question")
    DATA_REQUEST = "data-request", _("Request about my data")
    COMPLAINT = "complaint", _("Complaint")


class Status(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in-progress", _("In progress")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


#: Statuses in which a message still waits for someone.
OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.ANSWERED)


class ContactMessage(VaultModel):
    """One message to the operator. ``email``, ``name`` and ``body`` are sealed.

    ``sender`` is the account it was sent from, or None for an anonymous visitor (who
    gave ``email``). ``first_answered_at`` is when staff first replied: the promise
    check counts messages that have waited too long for it.
    """

    reference = models.CharField(_("reference"), max_length=REFERENCE_LENGTH, unique=True)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="contact_messages",
    )
    data_key = models.CharField(max_length=32, blank=True, editable=False)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW, db_index=True
    )
    language = models.CharField(max_length=16, default="en")
    email = EncryptedTextField(_("e-mail address"), max_length=EMAIL_MAX, default="")
    email_index = BlindIndexField(source="email", normalise=fold_email)
    name = EncryptedTextField(_("name"), max_length=NAME_MAX, default="")
    body = EncryptedTextField(_("message"), default="")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_contact_messages",
    )
    created_at = models.DateTimeField(_("sent"), db_index=True)
    first_answered_at = models.DateTimeField(_("first answered"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    vault_key_field = "data_key"

    class Meta:
        verbose_name = _("contact message")
        verbose_name_plural = _("contact messages")
        ordering = ("-created_at", "-id")
        default_permissions = ()
        permissions = [
            ("view_inbox", "Can see the contact inbox and read messages"),
            ("reply", "Can reply to, assign, annotate and change the status of messages"),
        ]

    def __str__(self) -> str:
        return self.reference

    def vault_key_id(self, *, create: bool) -> str | None:
        if not self.data_key and create:
            self.data_key = keys.create_data_key()
        return self.data_key or None

    @property
    def is_open(self) -> bool:
        return self.status != Status.CLOSED

    def open_for(self, now: datetime) -> float:
        """Seconds from sending to closing (or to ``now`` while it is open)."""
        end = self.closed_at if self.closed_at and not self.is_open else now
        return max(0.0, (end - self.created_at).total_seconds())


class _UnderMessageKey(VaultModel):
    """A row sealed under its message's data key."""

    message: models.ForeignKey[ContactMessage, ContactMessage]

    class Meta:
        abstract = True

    def vault_key_id(self, *, create: bool) -> str | None:
        return self.message.vault_key_id(create=create)


class Reply(_UnderMessageKey):
    """A staff member's answer: e-mailed to the sender and shown in their account."""

    message = models.ForeignKey(ContactMessage, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = EncryptedTextField(_("reply"), default="")
    created_at = models.DateTimeField(_("sent"))

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ("created_at", "id")
        default_permissions = ()


class Note(_UnderMessageKey):
    """An internal note between staff. Never shown or sent to the person."""

    message = models.ForeignKey(ContactMessage, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = EncryptedTextField(_("note"), default="")
    created_at = models.DateTimeField(_("written"))

    class Meta:
        verbose_name = _("internal note")
        verbose_name_plural = _("internal notes")
        ordering = ("created_at", "id")
        default_permissions = ()
