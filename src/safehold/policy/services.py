"""The privacy statement's state changes and the queries other apps call.

Other apps use ``current_version_number()`` and ``cookie_section_version()``
(the consent app asks for cookie choices again when the cookie section changed).

Which version is in force is decided when asked, from the published versions and
the time (``_now()``): a version published with a future effective date takes over
by itself when that date comes, with no job needed. The list of published versions
is cached (they never change once published) and dropped when one is published.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from safehold.audit.events import EventType
from safehold.audit.services import Actor, record_event
from safehold.policy import rendering
from safehold.policy.exceptions import NothingToAcknowledge, NotPublishable
from safehold.policy.models import (
    FALLBACK_LANGUAGE,
    TEXT_LANGUAGES,
    Acknowledgement,
    Announcement,
    NoticePreference,
    StatementText,
    StatementVersion,
)

if TYPE_CHECKING:
    from safehold.accounts.models import User

logger = logging.getLogger(__name__)

_CACHE_KEY = "policy:published:v1"
_CACHE_SECONDS = 300
#: A version's "new version" e-mail is sent only while it is this recent.
ANNOUNCE_WINDOW = timedelta(days=7)
#: Cookie section id in the statement's Markdown (``## Cookies {#cookies}``).
COOKIE_SECTION = "cookies"


def _now() -> datetime:
    """The current time; tests move it forward to see a scheduled version take effect."""
    return timezone.now()


# --- Which version is in force ---------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """What the queries need of a published version (cached; versions never change)."""

    pk: int
    number: int
    effective_at: datetime
    material: bool
    cookie_section_changed: bool


def _published() -> list[Published]:
    """Every published version, latest effective first (cached until the next publication)."""
    rows = cache.get(_CACHE_KEY)
    if rows is None:
        rows = [
            Published(*values)  # type: ignore[arg-type]  # published rows always have a date
            for values in StatementVersion.objects.filter(published_at__isnull=False)
            .order_by("-effective_at", "-number")
            .values_list("pk", "number", "effective_at", "material", "cookie_section_changed")
        ]
        cache.set(_CACHE_KEY, rows, _CACHE_SECONDS)
    return rows


def _forget_published() -> None:
    cache.delete(_CACHE_KEY)


def _in_force(now: datetime | None = None) -> list[Published]:
    now = now or _now()
    return [p for p in _published() if p.effective_at <= now]


def current_version(now: datetime | None = None) -> StatementVersion | None:
    """The version in force: the latest published one whose effective date has come."""
    in_force = _in_force(now)
    if not in_force:
        return None
    versions = StatementVersion.objects.prefetch_related("texts")
    found = versions.filter(pk=in_force[0].pk).first()
    if found is None:  # the cache outlived a rolled-back publication: read again
        _forget_published()
        in_force = _in_force(now)
        found = versions.filter(pk=in_force[0].pk).first() if in_force else None
    return found


def next_scheduled(now: datetime | None = None) -> StatementVersion | None:
    """The published version that takes effect next, if one is waiting (None mostly:
    answered from the cache without a query)."""
    now = now or _now()
    waiting = [p for p in _published() if p.effective_at > now]
    if not waiting:
        return None
    soonest = min(waiting, key=lambda p: (p.effective_at, p.number))
    return StatementVersion.objects.filter(pk=soonest.pk).first()


def current_version_number(now: datetime | None = None) -> int | None:
    """The number of the version in force, or None when none has been published."""
    in_force = _in_force(now)
    return in_force[0].number if in_force else None


def cookie_section_version(now: datetime | None = None) -> int:
    """The number of the latest version in force whose cookie section changed; 0 if none.

    A version's ``cookie_section_changed`` flag is set at publication when the
    cookie section of any language (the Markdown section whose heading carries
    ``{#cookies}``) differs from the previous published version's, or by staff who
    tick it on the draft. Version 1 counts as a change (there was no section before).
    """
    for p in _in_force(now):
        if p.cookie_section_changed:
            return p.number
    return 0


def version_status(version: StatementVersion, now: datetime | None = None) -> str:
    """``draft``, ``scheduled``, ``current`` or ``superseded``."""
    if not version.is_published:
        return "draft"
    now = now or _now()
    if version.effective_at is None or version.effective_at > now:
        return "scheduled"
    in_force = _in_force(now)
    return "current" if in_force and in_force[0].pk == version.pk else "superseded"


def published_versions() -> list[StatementVersion]:
    """Every published version (scheduled ones too), newest number first."""
    return list(
        StatementVersion.objects.filter(published_at__isnull=False)
        .prefetch_related("texts")
        .order_by("-number")
    )


def get_published(number: int) -> StatementVersion | None:
    return (
        StatementVersion.objects.filter(number=number, published_at__isnull=False)
        .prefetch_related("texts")
        .first()
    )


def text_for(version: StatementVersion, language: str | None = None) -> StatementText | None:
    """The version's text in ``language`` (the active one by default), else in English,
    else in any language it has."""
    language = (language or translation.get_language() or FALLBACK_LANGUAGE).lower()
    texts = {t.language: t for t in version.texts.all()}
    for code in (language, language.split("-")[0], FALLBACK_LANGUAGE):
        if code in texts:
            return texts[code]
    return next(iter(texts.values()), None)


# --- Drafts and publication ------------------------------------------------------------


def create_draft(
    *,
    texts: dict[str, str],
    summaries: dict[str, str] | None = None,
    material: bool = False,
    cookie_section_changed: bool = False,
) -> StatementVersion:
    """A new draft with ``texts`` ({language: Markdown}). Drafts are not audited: they
    are nobody's data and nothing until published (staff edit them in the admin)."""
    unknown = set(texts) - set(TEXT_LANGUAGES)
    if unknown:
        raise NotPublishable(f"unknown language {sorted(unknown)[0]!r}")
    summaries = summaries or {}
    with transaction.atomic():
        version = StatementVersion(material=material, cookie_section_changed=cookie_section_changed)
        version.save()
        for language, body in texts.items():
            StatementText(
                version=version,
                language=language,
                body=body,
                summary=summaries.get(language, ""),
            ).save()
    return version


def _cookie_section_differs(version: StatementVersion, previous: StatementVersion | None) -> bool:
    if previous is None:
        return True
    old = {t.language: rendering.section(t.body, COOKIE_SECTION) for t in previous.texts.all()}
    new = {t.language: rendering.section(t.body, COOKIE_SECTION) for t in version.texts.all()}
    for language in set(old) | set(new):
        if _normalise(old.get(language)) != _normalise(new.get(language)):
            return True
    return False


def _normalise(text: str | None) -> str:
    return " ".join((text or "").split())


def publish_version(
    version: StatementVersion, *, actor: Actor, effective_at: datetime | None = None
) -> StatementVersion:
    """Publish a draft, in force from ``effective_at`` (now if None or in the past).

    From then on the version is immutable. Sets ``cookie_section_changed`` when the
    cookie section differs from the previous published version's. Records
    ``statement:published`` and schedules the "new version" e-mails for the time it
    takes effect. Raises ``NotPublishable`` for a version already published or one
    without an English text. The caller checks the ``policy.publish_version``
    permission.
    """
    return _publish(version, actor=actor, effective_at=effective_at, first_start=False)


def _publish(
    version: StatementVersion,
    *,
    actor: Actor,
    effective_at: datetime | None,
    first_start: bool,
) -> StatementVersion:
    """``publish_version``; at ``first_start`` (the default statement installed by
    ``migrate``) nothing is recorded or mailed: the audit log and the job queue start
    with people's own events, and nobody can have asked for e-mail yet."""
    now = _now()
    effective = max(effective_at or now, now)
    with transaction.atomic():
        locked = StatementVersion.objects.select_for_update().filter(pk=version.pk).first()
        if locked is None:
            raise NotPublishable("the draft no longer exists")
        if locked.is_published:
            raise NotPublishable(f"version {locked.number} is already published")
        texts = {t.language: t for t in locked.texts.all()}
        if FALLBACK_LANGUAGE not in texts or not texts[FALLBACK_LANGUAGE].body.strip():
            raise NotPublishable("a version needs an English text")
        previous = (
            StatementVersion.objects.filter(published_at__isnull=False, number__lt=locked.number)
            .order_by("-number")
            .first()
        )
        if not locked.cookie_section_changed:
            locked.cookie_section_changed = _cookie_section_differs(locked, previous)
        locked.published_at = now
        locked.effective_at = effective
        if actor.id and actor.kind in ("staff", "person"):
            locked.published_by_id = int(actor.id)
        locked.save()
        if first_start:
            transaction.on_commit(_forget_published)
            return locked
        record_event(
            EventType.STATEMENT_PUBLISHED,
            actor=actor,
            detail={
                "version": locked.number,
                "material": locked.material,
                "effective_at": effective.isoformat(timespec="seconds"),
                "cookie_section_changed": locked.cookie_section_changed,
                "languages": sorted(texts),
            },
        )
        _schedule_announcement(locked)
        transaction.on_commit(_forget_published)
    _forget_published()
    return locked


def _schedule_announcement(version: StatementVersion) -> None:
    """The "new version" e-mails, at the time the version takes effect (worker)."""
    from safehold.jobs import enqueue

    try:
        enqueue(
            "policy.announce",
            {"version_id": version.pk},
            run_at=version.effective_at,
            dedupe_key=f"policy.announce:{version.pk}",
        )
    except LookupError:  # the task is registered in ready(); absent only in odd set-ups
        logger.warning("policy.announce is not registered: the sweep will send the e-mails")


# --- Acknowledgement -------------------------------------------------------------------


def latest_material_pk(now: datetime | None = None) -> int | None:
    """The id of the latest material version in force (from the cache), or None."""
    return next((p.pk for p in _in_force(now) if p.material), None)


def pending_acknowledgement(user: User, now: datetime | None = None) -> StatementVersion | None:
    """The version ``user`` must acknowledge before going on, or None.

    A person is asked when a material version took effect after they joined and
    they have not acknowledged it or any version in force since. They acknowledge
    the current version (which carries every change before it).
    """
    now = now or _now()
    in_force = _in_force(now)
    material = next((p for p in in_force if p.material), None)
    if material is None or user.date_joined >= material.effective_at:
        return None
    later = {p.pk for p in in_force if p.effective_at >= material.effective_at}
    if Acknowledgement.objects.filter(user=user, version_id__in=later).exists():
        return None
    return current_version(now)


def last_acknowledged(user: User) -> Acknowledgement | None:
    return (
        Acknowledgement.objects.filter(user=user)
        .select_related("version")
        .order_by("-version__number")
        .first()
    )


def acknowledge(user: User, version: StatementVersion, *, actor: Actor) -> Acknowledgement:
    """Record that ``user`` acknowledged ``version`` (once; a repeat returns the first).

    Raises ``NothingToAcknowledge`` for a version that is not in force.
    """
    if version_status(version) not in ("current", "superseded"):
        raise NothingToAcknowledge("that version is not in force")
    with transaction.atomic():
        existing = Acknowledgement.objects.filter(user=user, version=version).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                ack = Acknowledgement.objects.create(
                    user=user, version=version, acknowledged_at=_now()
                )
        except IntegrityError:  # a second tab acknowledged at the same moment
            return Acknowledgement.objects.get(user=user, version=version)
        record_event(
            EventType.STATEMENT_ACKNOWLEDGED,
            actor=actor,
            subject=user,
            detail={"version": version.number},
        )
    return ack


# --- "E-mail me about new versions" ----------------------------------------------------


def wants_notices(user: User) -> bool:
    return NoticePreference.objects.filter(user=user, email_on_new_version=True).exists()


def set_notice_preference(user: User, *, enabled: bool, actor: Actor) -> bool:
    """Turn the "new version" e-mails on or off for ``user``; returns whether it changed."""
    with transaction.atomic():
        pref, _created = NoticePreference.objects.select_for_update().get_or_create(user=user)
        if pref.email_on_new_version == enabled:
            return False
        pref.email_on_new_version = enabled
        pref.save()
        record_event(
            EventType.STATEMENT_NOTICES_CHANGED,
            actor=actor,
            subject=user,
            detail={"email_on_new_version": enabled},
        )
    return True


def _recipients(version: StatementVersion) -> Iterator[User]:
    from safehold.accounts.models import User

    already = Announcement.objects.filter(version=version).values("user_id")
    yield from (
        User.objects.filter(statement_notice__email_on_new_version=True, is_active=True)
        .exclude(pk__in=already)
        .order_by("pk")
        .iterator()
    )


def send_announcements(version_id: int, now: datetime | None = None) -> int:
    """E-mail the opted-in people that ``version_id`` is in force; returns how many.

    Idempotent: each person is mailed at most once per version (``Announcement``),
    so a retried or repeated run sends only what is missing. Does nothing for a
    version not in force yet, superseded, or older than ANNOUNCE_WINDOW.
    """
    now = now or _now()
    version = StatementVersion.objects.filter(pk=version_id).first()
    if version is None or version_status(version, now) != "current":
        return 0
    if version.effective_at is None or version.effective_at < now - ANNOUNCE_WINDOW:
        return 0
    sent = 0
    for user in _recipients(version):
        address = user.email
        if not address:
            continue
        try:
            with transaction.atomic():
                Announcement.objects.create(version=version, user=user, sent_at=now)
                _send_notice(user, version)
        except IntegrityError:
            continue  # another worker mailed this person meanwhile
        sent += 1
    return sent


def _site_root() -> str:
    """``https://host`` of this site for links in e-mails: the first allowed host name."""
    hosts = [h for h in settings.ALLOWED_HOSTS if h and h != "*" and not h.startswith(".")]
    protocol = getattr(settings, "ACCOUNT_DEFAULT_HTTP_PROTOCOL", "https")
    return f"{protocol}://{hosts[0]}" if hosts else ""


def _send_notice(user: User, version: StatementVersion) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        text = text_for(version)
        context = {
            "version": version,
            "summary": text.summary if text else "",
            "operator_name": settings.SAFEHOLD_OPERATOR_NAME,
            "site_url": _site_root(),
        }
        subject = render_to_string("policy/email/new_version_subject.txt", context).strip()
        body = render_to_string("policy/email/new_version_message.txt", context)
    send_mail(subject, body, None, [user.email])


def announce_current(now: datetime | None = None) -> int:
    """The periodic sweep: send what is missing for the version in force (if recent)."""
    number = current_version_number(now)
    if number is None:
        return 0
    version = StatementVersion.objects.get(number=number)
    return send_announcements(version.pk, now)


# --- The default statement -------------------------------------------------------------


def default_texts() -> dict[str, str]:
    """Safehold's own statement, per language (Markdown with placeholders)."""
    from django.template.loader import get_template

    texts = {}
    for language in TEXT_LANGUAGES:
        template = get_template(f"policy/default/{language}.md")
        texts[language] = template.template.source  # type: ignore[attr-defined]  # the file's text, not rendered
    return texts


DEFAULT_SUMMARIES = {
    "en": "The first version of this statement.",
    "zh-hans": "本声明的第一个版本。",
}


def install_default_statement(now: datetime | None = None) -> StatementVersion | None:
    """Publish Safehold's default statement as version 1 if no version exists yet.

    Safe to call at every start (``post_migrate``): it does nothing once any
    version exists. Returns the version it installed, or None.
    """
    if StatementVersion.objects.exists():
        return None
    with transaction.atomic():
        if StatementVersion.objects.select_for_update().exists():
            return None
        draft = create_draft(texts=default_texts(), summaries=DEFAULT_SUMMARIES, material=False)
        # The time the statement was installed; "now" in tests that move time.
        effective = now or _now()
        return _publish(draft, actor=Actor.system(), effective_at=effective, first_start=True)


# --- The person's data: export and erasure ---------------------------------------------


def export_rows(user: User) -> Iterable[dict[str, Any]]:
    """The person's acknowledgements and notice preference, for "download my data"."""
    for ack in (
        Acknowledgement.objects.filter(user=user)
        .select_related("version")
        .order_by("acknowledged_at")
        .iterator()
    ):
        yield {
            "kind": "acknowledgement",
            "version": ack.version.number,
            "acknowledged_at": ack.acknowledged_at.isoformat(),
        }
    pref = NoticePreference.objects.filter(user=user).first()
    if pref is not None:
        yield {
            "kind": "notice_preference",
            "email_on_new_version": pref.email_on_new_version,
            "updated_at": pref.updated_at.isoformat(),
        }


EXPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["kind"],
    "properties": {
        "kind": {"enum": ["acknowledgement", "notice_preference"]},
        "version": {"type": "integer", "description": "the statement version acknowledged"},
        "acknowledged_at": {"type": "string", "format": "date-time"},
        "email_on_new_version": {"type": "boolean"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}


def erase(user: User) -> int:
    """Remove the person's acknowledgements, notice preference and e-mail records."""
    count = Acknowledgement.objects.filter(user=user).delete()[0]
    count += NoticePreference.objects.filter(user=user).delete()[0]
    count += Announcement.objects.filter(user=user).delete()[0]
    return count
