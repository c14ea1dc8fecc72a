"""The privacy statement's state changes and the queries other apps call.

Other apps use ``current_version_number()`` and ``cookie_section_version()``
(the consent app asks for cookie choices again when the cookie section changed).
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from safehold.policy.models import StatementVersion


def _now() -> datetime:
    """The current time; tests move it forward to see a scheduled version take effect."""
    return timezone.now()


def _in_force(now: datetime | None = None) -> QuerySet[StatementVersion]:
    now = now or _now()
    return StatementVersion.objects.filter(
        published_at__isnull=False, effective_at__isnull=False, effective_at__lte=now
    ).order_by("-effective_at", "-number")


def current_version(now: datetime | None = None) -> StatementVersion | None:
    """The version in force: the latest published one whose effective date has come."""
    return _in_force(now).first()


def current_version_number(now: datetime | None = None) -> int | None:
    """The number of the version in force, or None when none has been published."""
    return _in_force(now).values_list("number", flat=True).first()


def cookie_section_version(now: datetime | None = None) -> int:
    """The number of the latest version in force whose cookie section changed; 0 if none.

    A version's ``cookie_section_changed`` flag is set at publication when the
    cookie section of any language (the Markdown section whose heading carries
    ``{#cookies}``) differs from the previous published version's, or by staff who
    tick it on the draft. Version 1 counts as a change (there was no section before).
    """
    number = (
        _in_force(now).filter(cookie_section_changed=True).values_list("number", flat=True).first()
    )
    return number or 0
