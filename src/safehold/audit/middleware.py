from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class AtomicWritesMiddleware:
    """Run every state-changing request in one transaction.

    A change and the audit events about it (some recorded by signal receivers) commit
    together or not at all. A request that ends in an error (4xx or 5xx) is rolled back,
    so a view that wrote and then refused leaves nothing behind. (A form that fails
    validation answers 200 and keeps what it recorded, such as a failed sign-in.)
    Reads stay outside, so on SQLite they never wait for the write lock.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in SAFE_METHODS:
            return self.get_response(request)
        with transaction.atomic():
            response = self.get_response(request)
            if response.status_code >= 400:
                transaction.set_rollback(True)
        return response
