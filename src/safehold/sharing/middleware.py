"""Refusals of the share gate outlive the rolled-back request.

``AtomicWritesMiddleware`` rolls back any request that ends in a 4xx, so the audit
event of a refusal written inside the view would vanish with it. The API's share
route leaves the refusal on the request instead (``defer_refusal``), and this
middleware, outside that transaction, records it once the request's transaction
has been rolled back.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse

_ATTR = "_sharing_deferred_refusals"


def defer_refusal(request: HttpRequest, record: Callable[[], None]) -> None:
    """Run ``record`` (which writes the refusal's audit event) after the request."""
    pending = getattr(request, _ATTR, None)
    if pending is None:
        pending = []
        setattr(request, _ATTR, pending)
    pending.append(record)


class RefusalRecordMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        for record in getattr(request, _ATTR, ()):
            with transaction.atomic():
                record()
        return response
