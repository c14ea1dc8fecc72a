"""Consent: the categories in force, a visitor's current choice, and recording choices.

Everything that changes consent data goes through here (the views, the API and the
admin are thin). Each recorded choice writes one ``consent:recorded`` audit event in
the same transaction, so the proof and the tamper-evident log cannot disagree.

The visitor's choice travels in two first-party cookies: ``sh_vid`` (a random visitor
id; strictly necessary, HttpOnly) and ``sh_consent`` (what is allowed, when, and under
which versions; readable by the page's script). A choice needs renewing when the
categories change, when the privacy statement's cookie section changes, or after
``SAFEHOLD_CONSENT_RENEW_DAYS``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from safehold.audit.events import EventType
from safehold.audit.services import Actor, record_event, record_events
from safehold.consent.exceptions import InvalidVisitorId, UnknownCategory
from safehold.consent.models import Category, ConsentRecord

if TYPE_CHECKING:
    from safehold.accounts.models import User
    from safehold.api.models import ApiKey

logger = logging.getLogger(__name__)

VISITOR_COOKIE = "sh_vid"
CHOICE_COOKIE = "sh_consent"
COOKIE_FORMAT = "1"
# The banner's own wording (templates and consent.js): bump when it changes, so that
# the banner-text version recorded with each choice changes too.
BANNER_WORDING = "2026-11-25"
VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# How long the categories and versions are kept in a process before being read again
# (a change in the admin clears this process's copy at once).
CONFIG_TTL = 5.0


def _now() -> datetime:
    """The time seam for tests."""
    return timezone.now()


# --- The configuration in force -------------------------------------------------------------


@dataclass(frozen=True)
class CategoryInfo:
    slug: str
    name_en: str
    name_zh: str
    description_en: str
    description_zh: str
    is_necessary: bool
    is_sale_or_sharing: bool
    cookies: tuple[str, ...]
    scripts: tuple[str, ...]

    def name(self, language: str | None) -> str:
        return self.name_zh if (language or "").startswith("zh") else self.name_en

    def description(self, language: str | None) -> str:
        return self.description_zh if (language or "").startswith("zh") else self.description_en


@dataclass(frozen=True)
class Config:
    """The categories and the versions a choice is made under."""

    categories: tuple[CategoryInfo, ...]
    categories_version: str
    banner_version: str
    statement_version: int | None
    cookie_section_version: int

    @property
    def slugs(self) -> frozenset[str]:
        return frozenset(c.slug for c in self.categories)

    @property
    def necessary(self) -> frozenset[str]:
        return frozenset(c.slug for c in self.categories if c.is_necessary)

    @property
    def sale_or_sharing(self) -> frozenset[str]:
        return frozenset(c.slug for c in self.categories if c.is_sale_or_sharing)

    def category(self, slug: str) -> CategoryInfo | None:
        return next((c for c in self.categories if c.slug == slug), None)


_config_lock = threading.Lock()
_config: tuple[float, Config] | None = None


def statement_versions() -> tuple[int | None, int]:
    """(current statement version number or None, version of its cookie section or 0).

    The privacy statement belongs to the policy app; until it provides these, None and 0.
    """
    try:
        from safehold.policy import services as policy

        current = policy.current_version_number()
        cookie = policy.cookie_section_version()
    except (ImportError, AttributeError):
        return None, 0
    return (int(current) if current is not None else None), int(cookie or 0)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:12]


def load_config() -> Config:
    """Read the categories and versions from the database (no cache)."""
    categories = tuple(
        CategoryInfo(
            slug=c.slug,
            name_en=c.name_en,
            name_zh=c.name_zh,
            description_en=c.description_en,
            description_zh=c.description_zh,
            is_necessary=c.is_necessary,
            is_sale_or_sharing=c.is_sale_or_sharing,
            cookies=tuple(c.cookie_names),
            scripts=tuple(c.script_urls),
        )
        for c in Category.objects.all()
    )
    statement, cookie_section = statement_versions()
    # What the visitor agrees to: the set of categories and the cookies in each.
    categories_version = _digest(
        [[c.slug, c.is_necessary, c.is_sale_or_sharing, sorted(c.cookies)] for c in categories]
    )
    # What the visitor was shown: the banner's wording and every category's texts.
    banner_version = _digest(
        [BANNER_WORDING]
        + [[c.name_en, c.name_zh, c.description_en, c.description_zh] for c in categories]
    )
    return Config(categories, categories_version, banner_version, statement, cookie_section)


def get_config() -> Config:
    """The configuration in force, read at most every ``CONFIG_TTL`` seconds per process."""
    global _config
    cached = _config
    now = time.monotonic()
    if cached is not None and now - cached[0] < CONFIG_TTL:
        return cached[1]
    with _config_lock:
        config = load_config()
        _config = (now, config)
    return config


def clear_config() -> None:
    """Forget this process's copy (after a category changes; in tests)."""
    global _config
    _config = None


# --- A visitor's current choice ----------------------------------------------------------------


@dataclass(frozen=True)
class StoredChoice:
    """What the ``sh_consent`` cookie says (the visitor's own copy of their last choice)."""

    allowed: frozenset[str]
    made_at: int  # Unix seconds
    categories_version: str
    cookie_section_version: int
    gpc: bool

    def to_cookie(self) -> str:
        return "|".join(
            (
                COOKIE_FORMAT,
                ".".join(sorted(self.allowed)),
                str(self.made_at),
                self.categories_version,
                str(self.cookie_section_version),
                "1" if self.gpc else "0",
            )
        )

    @classmethod
    def from_cookie(cls, value: str | None) -> StoredChoice | None:
        if not value:
            return None
        parts = value.split("|")
        if len(parts) != 6 or parts[0] != COOKIE_FORMAT:
            return None
        try:
            return cls(
                allowed=frozenset(s for s in parts[1].split(".") if s),
                made_at=int(parts[2]),
                categories_version=parts[3][:16],
                cookie_section_version=int(parts[4]),
                gpc=parts[5] == "1",
            )
        except ValueError:
            return None

    @classmethod
    def from_record(cls, record: ConsentRecord) -> StoredChoice:
        return cls(
            allowed=frozenset(record.allowed),
            made_at=int(record.created_at.timestamp()),
            categories_version=record.categories_version,
            cookie_section_version=record.cookie_section_version,
            gpc=record.gpc,
        )


@dataclass(frozen=True)
class ConsentState:
    """What a visitor allows right now (``request.consent`` on Safehold's pages).

    ``needs_choice``: show the banner (no choice, or one that must be renewed:
    ``renewal``). ``gpc``: the browser sent Global Privacy Control; ``gpc_applied``:
    it turned a sale-or-sharing category off. Until a current choice exists, only the
    strictly necessary categories are allowed.
    """

    allowed: frozenset[str]
    needs_choice: bool
    renewal: bool = False
    gpc: bool = False
    gpc_applied: bool = False
    stored: StoredChoice | None = None
    refused: frozenset[str] = field(default_factory=frozenset)

    def allows(self, slug: str) -> bool:
        return slug in self.allowed

    def __contains__(self, slug: str) -> bool:
        return slug in self.allowed


def renew_after() -> timedelta:
    return timedelta(days=settings.SAFEHOLD_CONSENT_RENEW_DAYS)


def is_current(stored: StoredChoice | None, config: Config, now: datetime | None = None) -> bool:
    """Whether ``stored`` still counts: same categories, same cookie section, not too old."""
    if stored is None:
        return False
    now = now or _now()
    return (
        stored.categories_version == config.categories_version
        and stored.cookie_section_version >= config.cookie_section_version
        and now.timestamp() - stored.made_at < renew_after().total_seconds()
    )


def state_for(
    stored: StoredChoice | None, *, gpc: bool, config: Config | None = None
) -> ConsentState:
    """The consent state of a visitor with this stored choice and GPC signal."""
    config = config or get_config()
    current = is_current(stored, config)
    allowed = set(config.necessary)
    if current and stored is not None:
        allowed |= stored.allowed & config.slugs
    gpc_applied = False
    # A choice made while the signal was sent is the visitor's explicit word; else the
    # signal switches sale and sharing off.
    if gpc and not (current and stored is not None and stored.gpc):
        gpc_applied = bool(config.sale_or_sharing)
        allowed -= config.sale_or_sharing
    return ConsentState(
        allowed=frozenset(allowed),
        needs_choice=not current,
        renewal=stored is not None and not current,
        gpc=gpc,
        gpc_applied=gpc_applied,
        stored=stored,
        refused=config.slugs - allowed,
    )


def has_gpc(headers: Any) -> bool:
    """``Sec-GPC: 1`` (Global Privacy Control, https://privacycg.github.io/gpc-spec/)."""
    return str(headers.get("Sec-GPC", "")).strip() == "1"


# --- Recording -------------------------------------------------------------------------------


def new_visitor_id() -> str:
    return secrets.token_urlsafe(18)  # 24 characters, 144 random bits


def truncate_ip(ip: str | None) -> str:
    """The network of ``ip``: /24 for IPv4, /48 for IPv6 ("" if there is none)."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def full_choices(
    config: Config, allowed: Iterable[str] = (), choices: dict[str, bool] | None = None
) -> dict[str, bool]:
    """Every category's answer: necessary ones on, those in ``allowed`` or ``choices`` as
    given, the rest off. Raises ``UnknownCategory`` naming categories not configured."""
    named = set(allowed) | set(choices or {})
    unknown = sorted(named - config.slugs)
    if unknown:
        raise UnknownCategory(unknown)
    on = set(allowed) | {slug for slug, value in (choices or {}).items() if value}
    return {c.slug: c.is_necessary or c.slug in on for c in config.categories}


def new_record(
    *,
    visitor_id: str,
    choices: dict[str, bool],
    method: str,
    gpc: bool = False,
    site: ApiKey | None = None,
    user: User | None = None,
    ip: str | None = None,
    language: str = "",
    config: Config | None = None,
) -> ConsentRecord:
    """One choice (``choices`` from ``full_choices``) with its proof, not yet saved.

    Raises ``InvalidVisitorId`` or ``UnknownCategory``.
    """
    if not VISITOR_ID.match(visitor_id):
        raise InvalidVisitorId("a visitor id is 16 to 64 letters, digits, - or _")
    if method not in ConsentRecord.Method.values:
        raise ValueError(f"unknown method {method!r}")
    config = config or get_config()
    return ConsentRecord(
        visitor_id=visitor_id,
        user=user if user is not None and user.pk else None,
        site=site,
        created_at=_now(),
        choices=full_choices(config, choices=choices),
        method=method,
        gpc=gpc,
        statement_version=config.statement_version,
        cookie_section_version=config.cookie_section_version,
        categories_version=config.categories_version,
        banner_version=config.banner_version,
        language=(language or "")[:10],
        ip_network=truncate_ip(ip),
    )


def insert_values(record: ConsentRecord) -> tuple[Any, ...]:
    """``record``'s columns as the database takes them (the group committer computes
    these before its turn to write, so the write itself is short)."""
    connection = connections[DEFAULT_DB_ALIAS]
    return tuple(f.get_db_prep_save(getattr(record, f.attname), connection) for f in _COLUMNS)


_COLUMNS = [f for f in ConsentRecord._meta.concrete_fields if not f.primary_key]


def _insert(records: Sequence[ConsentRecord], rows: Sequence[tuple[Any, ...]]) -> None:
    """One multi-row INSERT; sets each record's id. (bulk_create did the same with twice
    the Python per row: this runs while the other app servers wait to write.)"""
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in _COLUMNS)
    one = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
    # The model's own table and columns; the values are parameters.
    table = quote(ConsentRecord._meta.db_table)
    values = ", ".join([one] * len(rows))
    sql = f"INSERT INTO {table} ({columns}) VALUES {values} RETURNING {quote('id')}"  # noqa: S608
    with connection.cursor() as cursor:
        if connection.features.can_return_rows_from_bulk_insert:
            cursor.execute(sql, [value for row in rows for value in row])
            # One statement in one write transaction: the ids rise in the order of the rows.
            ids = sorted(row[0] for row in cursor.fetchall())
        else:  # SQLite before 3.35 has no RETURNING: a row at a time
            single = f"INSERT INTO {table} ({columns}) VALUES {one}"  # noqa: S608
            ids = []
            for row in rows:
                cursor.execute(single, row)
                ids.append(cursor.lastrowid)
    for record, pk in zip(records, ids, strict=True):
        record.pk = pk
        record._state.adding = False
        record._state.db = DEFAULT_DB_ALIAS


def save_records(
    batch: Sequence[tuple[ConsentRecord, Actor]],
    rows: Sequence[tuple[Any, ...]] | None = None,
) -> None:
    """Save new records, each with its ``consent:recorded`` event, in one transaction.

    One INSERT for the records and one audit append for their events, whether the
    batch holds one choice or the many that the embed's committer gathered
    (safehold.consent.fastpath). ``rows``: the records' ``insert_values``, if known.
    """
    records = [record for record, _actor in batch]
    if rows is None:
        rows = [insert_values(record) for record in records]
    with transaction.atomic():
        _insert(records, rows)
        events = [
            (
                EventType.CONSENT_RECORDED,
                actor,
                record.user,
                {
                    "record": record.pk,
                    "method": record.method,
                    "allowed": record.allowed,
                    "gpc": record.gpc,
                    "site": record.site_id,
                },
            )
            for record, actor in batch
            if settings.SAFEHOLD_CONSENT_AUDIT_CHOICES or record.user is not None
        ]
        if events:
            record_events(events)


def record_choice(*, actor: Actor, **choice: Any) -> ConsentRecord:
    """Record one choice with its proof and audit event (arguments as ``new_record``'s).

    Raises ``InvalidVisitorId`` or ``UnknownCategory``; records nothing then.
    """
    record = new_record(**choice)
    save_records([(record, actor)])
    return record


def latest_record(visitor_id: str) -> ConsentRecord | None:
    """The visitor's last recorded choice (visitor ids are random, 144 bits: one browser
    on one site), or None."""
    if not VISITOR_ID.match(visitor_id):
        return None
    return (
        ConsentRecord.objects.filter(visitor_id=visitor_id)
        .select_related("user")
        .order_by("-id")
        .first()
    )


def join_visitor(visitor_id: str | None, user: User, *, actor: Actor) -> int:
    """Join a visitor's anonymous records on Safehold's pages to ``user`` (at sign-in).

    Returns how many records were joined; records one ``consent:joined`` event if any.
    """
    if not visitor_id or not VISITOR_ID.match(visitor_id) or not user.pk:
        return 0
    with transaction.atomic():
        count = ConsentRecord.objects.filter(
            visitor_id=visitor_id, user__isnull=True, site__isnull=True
        ).update(user=user)
        if count:
            record_event(
                EventType.CONSENT_JOINED, actor=actor, subject=user, detail={"records": count}
            )
    return count


# --- The person's data: account centre, export, erasure -------------------------------------


def record_row(record: ConsentRecord) -> dict[str, Any]:
    """One record as JSON-ready data (export, staff export, API)."""
    return {
        "id": record.pk,
        "visitor_id": record.visitor_id,
        "account": record.user_id,
        "site": record.site_id,
        "recorded_at": record.created_at.isoformat(),
        "method": record.method,
        "gpc": record.gpc,
        "choices": record.choices,
        "statement_version": record.statement_version,
        "cookie_section_version": record.cookie_section_version,
        "categories_version": record.categories_version,
        "banner_version": record.banner_version,
        "language": record.language,
        "ip_network": record.ip_network,
    }


ROW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "visitor_id": {"type": "string"},
        "account": {"type": ["integer", "null"]},
        "site": {"type": ["integer", "null"]},
        "recorded_at": {"type": "string", "format": "date-time"},
        "method": {"type": "string", "enum": list(ConsentRecord.Method.values)},
        "gpc": {"type": "boolean"},
        "choices": {"type": "object", "additionalProperties": {"type": "boolean"}},
        "statement_version": {"type": ["integer", "null"]},
        "cookie_section_version": {"type": "integer"},
        "categories_version": {"type": "string"},
        "banner_version": {"type": "string"},
        "language": {"type": "string"},
        "ip_network": {"type": "string"},
    },
}


def export_rows(user: User) -> Iterator[dict[str, Any]]:
    """The person's consent records, oldest first (for "download my data")."""
    for record in ConsentRecord.objects.filter(user=user).order_by("id").iterator():
        yield record_row(record)


def erase_person(user: User) -> int:
    """Minimise the person's records: unjoin them from the account, drop the IP network,
    and give each of their visitor ids a fresh random one, so that the browser's cookie
    can never join these records to an account again (``join_visitor``). The
    pseudonymous proof (time, choices, versions) stays. Returns the count."""
    import secrets

    records = ConsentRecord.objects.filter(user=user)
    count = 0
    for visitor_id in set(records.values_list("visitor_id", flat=True)):
        count += records.filter(visitor_id=visitor_id).update(
            user=None, ip_network="", visitor_id=f"erased{secrets.token_hex(16)}"
        )
    return count


def export_records(records: Iterable[ConsentRecord], *, fmt: str, actor: Actor) -> str:
    """The records as CSV or JSON text for staff; records a ``consent:records:exported``."""
    import csv
    import io

    rows = [record_row(r) for r in records]
    if fmt == "json":
        text = json.dumps(rows, indent=1, ensure_ascii=False)
    else:
        buffer = io.StringIO()
        columns = list(ROW_SCHEMA["properties"])
        writer = csv.DictWriter(buffer, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            row = dict(row)
            choices = row["choices"]
            row["choices"] = " ".join(f"{k}={'yes' if v else 'no'}" for k, v in choices.items())
            writer.writerow(row)
        text = buffer.getvalue()
    with transaction.atomic():
        record_event(
            EventType.CONSENT_RECORDS_EXPORTED,
            actor=actor,
            detail={"records": len(rows), "format": fmt},
        )
    return text


def record_category_change(category: Category, *, actor: Actor, deleted: bool = False) -> None:
    """Audit a staff change to a category (the change itself was saved by the admin)."""
    record_event(
        EventType.CONSENT_CATEGORY_CHANGED,
        actor=actor,
        detail={"category": category.slug, "deleted": deleted},
    )
    clear_config()


def purge_records(cutoff: datetime) -> int:
    """Delete records made before ``cutoff``, in batches; return how many (retention)."""
    total = 0
    while True:
        ids = list(
            ConsentRecord.objects.filter(created_at__lt=cutoff)
            .order_by("id")
            .values_list("id", flat=True)[:1000]
        )
        if not ids:
            return total
        deleted, _ = ConsentRecord.objects.filter(id__in=ids).delete()
        total += deleted
