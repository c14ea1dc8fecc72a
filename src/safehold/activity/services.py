"""The activity app's state changes: access records, payments, devices.

Views, receivers, middleware and the retention job call these; they write nothing
else. Each change runs in one transaction with its audit event.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from safehold.accounts.models import User
from safehold.activity.models import AccessRecord

logger = logging.getLogger(__name__)


def _now() -> datetime:
    """The time seam for tests."""
    return timezone.now()


# --- What a request says about its browser ------------------------------------------------------


def describe_client(request: HttpRequest | None) -> dict[str, str]:
    """Browser, OS, IP address and place of ``request``'s client ("" where unknown).

    Reuses the accounts app's parsing (ua-parser, the trusted-proxy-aware client IP
    and the local geolocator), so sessions, devices and access records agree.
    """
    if request is None:
        return {"browser": "", "os": "", "ip": "", "place": ""}
    from safehold.accounts.services import _describe_client  # the accounts app's one parser

    described = _describe_client(request)
    return {
        "browser": str(described.get("browser") or ""),
        "os": str(described.get("os") or ""),
        "ip": str(described.get("ip_address") or ""),
        "place": str(described.get("place") or ""),
    }


# --- Access records -------------------------------------------------------------------------------


def record_access(
    user: User,
    *,
    kind: str,
    result: str = AccessRecord.Result.SUCCEEDED,
    request: HttpRequest | None = None,
    path: str = "",
    at: datetime | None = None,
    client: dict[str, str] | None = None,
) -> AccessRecord:
    """Record one access to ``user``'s account and return the saved row.

    ``kind`` is an ``AccessRecord.Kind`` and ``result`` an ``AccessRecord.Result``
    (``ValueError`` otherwise). The browser, OS, IP address and place come from
    ``request`` unless ``client`` gives them (keys ``browser``, ``os``, ``ip``,
    ``place``). ``path`` is stored without its query string, which can carry
    personal data. Everything but the time, kind and result is sealed under the
    person's data key.
    """
    if kind not in AccessRecord.Kind.values:
        raise ValueError(f"unknown access kind {kind!r}")
    if result not in AccessRecord.Result.values:
        raise ValueError(f"unknown access result {result!r}")
    described = client if client is not None else describe_client(request)
    if not path and request is not None:
        path = request.path
    details = {
        "path": path.split("?", 1)[0][:300],
        "browser": str(described.get("browser", ""))[:100],
        "os": str(described.get("os", ""))[:100],
        "ip": str(described.get("ip", ""))[:45],
        "place": str(described.get("place", ""))[:8],
    }
    row = AccessRecord(user=user, at=at or _now(), kind=kind, result=result, details=details)
    with transaction.atomic():
        row.save()
    return row


def access_records(
    user: User,
    *,
    kind: str = "",
    result: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> Any:
    """The person's access records, newest first, filtered (a lazy queryset for paging)."""
    query = AccessRecord.objects.filter(user=user)
    if kind:
        query = query.filter(kind=kind)
    if result:
        query = query.filter(result=result)
    if since is not None:
        query = query.filter(at__gte=since)
    if until is not None:
        query = query.filter(at__lt=until)
    return query.order_by("-at", "-pk")


def _owned(rows: Iterator[Any], user: User) -> Iterator[Any]:
    """Give each streamed row its owner, so opening it needs no query per row."""
    for row in rows:
        row.user = user
        yield row


def export_access_records(user: User) -> Iterator[dict[str, Any]]:
    """The person's access records for "download my data", oldest first, streamed."""
    rows = AccessRecord.objects.filter(user=user).order_by("at", "pk").iterator(chunk_size=2000)
    for row in _owned(rows, user):
        yield {
            "time": row.at.isoformat(),
            "kind": row.kind,
            "result": row.result,
            "page": row.path,
            "browser": row.browser,
            "os": row.os,
            "ip_address": row.ip_address,
            "place": row.place,
        }


def erase_access_records(user: User) -> int:
    """Remove all of the person's access records (erasure); return how many."""
    deleted, _per_model = AccessRecord.objects.filter(user=user).delete()
    return deleted


def purge_access_records(cutoff: datetime) -> int:
    """Remove every access record older than ``cutoff``, in batches; return how many."""
    total = 0
    while True:
        ids = list(AccessRecord.objects.filter(at__lt=cutoff).values_list("pk", flat=True)[:5000])
        if not ids:
            return total
        with transaction.atomic():
            deleted, _per_model = AccessRecord.objects.filter(pk__in=ids).delete()
        total += deleted


ACCESS_RECORD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["time", "kind", "result", "page", "browser", "os", "ip_address", "place"],
    "properties": {
        "time": {"type": "string", "format": "date-time", "description": "When (UTC)."},
        "kind": {"enum": AccessRecord.Kind.values, "description": "What happened."},
        "result": {"enum": AccessRecord.Result.values},
        "page": {"type": "string", "description": "The page's path, without a query string."},
        "browser": {"type": "string"},
        "os": {"type": "string", "description": "Operating system."},
        "ip_address": {"type": "string", "description": "Client IP address, '' if unknown."},
        "place": {
            "type": "string",
            "description": "ISO 3166-1 alpha-2 country code, 'local' or ''.",
        },
    },
}
