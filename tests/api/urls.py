"""Routes that exist only in the tests (``ROOT_URLCONF = "tests.api.urls"``).

The API's machinery on its own, apart from any feature: a write with a body,
idempotency and a session, one probe per scope, and a view that crashes.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import path
from ninja import Field, Router, Schema, Status

from safehold.api.api import build_api
from safehold.api.auth import Caller, api_auth
from safehold.api.idempotency import idempotent
from safehold.api.schemas import InputSchema
from safehold.api.scopes import Scope
from safehold.urls import handler400, handler403, handler404, handler500  # noqa: F401  # as the site
from safehold.urls import urlpatterns as site_urlpatterns

# What the test write did, in order: a test asserts on it as on stored rows.
WORK: list[dict[str, Any]] = []


class NoteIn(InputSchema):
    text: str = Field(max_length=200)
    count: int = Field(ge=0, le=1000)
    tags: list[str] = Field(default_factory=list, max_length=5)


class NoteOut(Schema):
    id: int
    count: int


router = Router()


@router.post("/notes", response={201: NoteOut}, auth=api_auth(Scope.CONSENT_WRITE, session=True))
@idempotent
def create_note(request: HttpRequest, payload: NoteIn) -> Status[dict[str, int]]:
    caller: Caller = request.auth  # type: ignore[attr-defined]  # set by ninja's auth
    WORK.append({"actor": caller.actor, "count": payload.count})
    return Status(201, {"id": len(WORK), "count": payload.count})


@router.get("/boom", auth=None, include_in_schema=False)
def boom(request: HttpRequest) -> None:
    # The message quotes what the client sent, as exception messages often do.
    raise RuntimeError(f"could not handle {request.GET.get('email')}")


def _probe_for(scope: Scope) -> Any:
    def probe(request: HttpRequest) -> dict[str, str]:
        return {"scope": scope.value}

    probe.__name__ = f"probe_{scope.name.lower()}"
    return probe


for _scope in Scope:
    router.add_api_operation(
        f"/scopes/{_scope.value}", ["GET"], _probe_for(_scope), auth=api_auth(_scope)
    )

test_api = build_api([("", router)], urls_namespace="api-test")

urlpatterns = [path("api/test/", test_api.urls), *site_urlpatterns]
