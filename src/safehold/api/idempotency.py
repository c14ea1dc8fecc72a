"""``Idempotency-Key`` for writes that another system may retry.

A write operation decorated with ``@idempotent`` may be sent with an
``Idempotency-Key`` header (1 to 255 printable ASCII characters, for example a
UUID). The first request with a key does the work and its successful answer is
stored for 24 hours; a retry with the same key and the same request gets the same
answer again (with ``Idempotent-Replayed: true``) and does nothing. The same key
with a different request is refused (422 ``idempotency.key_reused``). A retry
that arrives while the first is still running gets 409 ``idempotency.in_progress``
with ``Retry-After``; where the first request's transaction still holds the claim
(every write runs in one, safehold.audit.middleware), the retry's insert waits for
it instead and then gets its answer. Keys belong to the caller: two callers' keys never meet.

Only successful (2xx) answers are stored: after a refusal the client may correct
the request and send it again with the same key.

Use it under the route decorator, after ninja has authenticated the caller and
validated the body::

    @router.post("/consents", response={201: ConsentOut}, auth=api_auth(Scope.CONSENT_WRITE))
    @idempotent
    def record_consent(request, payload: ConsentIn): ...

The view returns what ninja views return: data, or ``Status(201, data)``.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Status
from pydantic_core import to_jsonable_python

from safehold.api.exceptions import (
    IdempotencyInProgress,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
)
from safehold.api.models import IdempotencyRecord

HEADER = "Idempotency-Key"
RETENTION = timedelta(hours=24)
# A first request that has not finished in this time died with its server (its
# transaction was rolled back): a retry may then take its place.
ABANDONED_AFTER = timedelta(minutes=2)
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # printable ASCII, no space
_VALID_KEY = re.compile(KEY_PATTERN)

View = TypeVar("View", bound=Callable[..., Any])


def _now() -> datetime:
    """The time seam for tests."""
    return timezone.now()


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.path, request.body):
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _replay(record: IdempotencyRecord, status: int) -> HttpResponse:
    response = HttpResponse(record.response_body, status=status, content_type="application/json")
    response["Idempotent-Replayed"] = "true"
    return response


def _claim(owner: str, key: str, fingerprint: str) -> IdempotencyRecord | HttpResponse:
    """Claim ``key`` for this request, or answer from (or refuse because of) its record."""
    now = _now()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    owner=owner,
                    key=key,
                    fingerprint=fingerprint,
                    created_at=now,
                    expires_at=now + RETENTION,
                )
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
        if existing is None:  # deleted in between: try again
            continue
        abandoned = existing.status_code is None and existing.created_at <= now - ABANDONED_AFTER
        if existing.expires_at <= now or abandoned:
            IdempotencyRecord.objects.filter(pk=existing.pk).delete()
            continue
        if existing.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used for a different request."
            )
        if existing.status_code is None:
            raise IdempotencyInProgress()
        return _replay(existing, existing.status_code)
    raise IdempotencyInProgress()


def _status_and_data(result: Any) -> tuple[int, Any]:
    if isinstance(result, Status):
        return result.status_code, result.value
    if isinstance(result, tuple):
        return result[0], result[1]
    return 200, result


def _owner(request: HttpRequest) -> str:
    caller = getattr(request, "auth", None)
    actor = getattr(caller, "actor", None)
    if not actor:
        raise TypeError("@idempotent needs an authenticated operation (auth=api_auth(...))")
    return str(actor)


def idempotent(view: View) -> View:
    """Make the write ``view`` safe to retry with an ``Idempotency-Key`` header."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(request, *args, **kwargs)
        if not _VALID_KEY.match(key):
            raise InvalidIdempotencyKey()
        owner = _owner(request)
        claimed = _claim(owner, key, _fingerprint(request))
        if isinstance(claimed, HttpResponse):
            return claimed
        try:
            with transaction.atomic():
                result = view(request, *args, **kwargs)
                status, data = _status_and_data(result)
                if 200 <= status < 300:
                    body = json.dumps(to_jsonable_python(data))
                    # The work and the stored answer commit together, or neither does.
                    IdempotencyRecord.objects.filter(pk=claimed.pk).update(
                        status_code=status, response_body=body
                    )
        except BaseException:
            IdempotencyRecord.objects.filter(pk=claimed.pk).delete()
            raise
        if not 200 <= status < 300:
            IdempotencyRecord.objects.filter(pk=claimed.pk).delete()
            return result
        return HttpResponse(body, status=status, content_type="application/json")

    # ninja reads the view's parameters from its signature; resolved here, in the
    # view's own module, since string annotations cannot be read from this one.
    wrapper.__signature__ = inspect.signature(view, eval_str=True)  # type: ignore[attr-defined]  # read by inspect.signature
    wrapper.is_idempotent = True  # type: ignore[attr-defined]  # the OpenAPI document lists the header
    return wrapper  # type: ignore[return-value]  # same signature, by functools.wraps


def purge_expired(now: datetime | None = None) -> int:
    """Delete stored answers older than 24 hours; return how many. (For the worker.)"""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=now or _now()).delete()
    return deleted
