"""``POST /api/v1/share``: the share gate for the operator's systems (scope ``share:request``).

A release answers 201 with the package: exactly the categories asked for. A refusal
answers a problem document whose ``reason`` is the gate's stable refusal code
(``share.no_consent``, ...; see docs/configuration.md, Sharing) and whose ``code`` is
the generic ``not_found`` (an unknown recipient, person or purpose), ``validation.failed``
(no or unknown category) or ``forbidden`` (every other refusal). Refusals are recorded
in the audit log even though the request's own transaction is rolled back.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Status
from ninja import Schema as OutSchema
from pydantic import StringConstraints

from safehold.api.auth import api_auth
from safehold.api.errors import PROBLEM_TYPES, problem_openapi_response, problem_response
from safehold.api.idempotency import idempotent
from safehold.api.schemas import InputSchema
from safehold.api.scopes import Scope
from safehold.api.services import api_actor
from safehold.sharing import services
from safehold.sharing.exceptions import REASON_TEXT, Reason
from safehold.sharing.middleware import defer_refusal

router = Router(tags=["Sharing"])

_NOT_FOUND = {Reason.UNKNOWN_RECIPIENT, Reason.UNKNOWN_PERSON, Reason.UNKNOWN_PURPOSE}
_INVALID = {Reason.NO_CATEGORIES, Reason.UNKNOWN_CATEGORY}


class ShareIn(InputSchema):
    recipient: str = Field(
        ..., min_length=1, max_length=60, description="The recipient's identifier in the registry."
    )
    person: str = Field(
        ..., min_length=1, max_length=254, description="The person's user name or e-mail address."
    )
    categories: list[Annotated[str, StringConstraints(max_length=40)]] = Field(
        ...,
        max_length=20,
        description="Data categories to release (exactly these are released): "
        + ", ".join(services.Category.values)
        + ".",
    )
    purpose: str | None = Field(
        None, max_length=60, description="The recipient's purpose (needed for basis consent)."
    )
    basis: Literal["consent", "terms", "operations", "user-interest"] = Field(
        ...,
        description="consent, or the exception the recipient rests on. (Disclosures under "
        "the legal exception go through legal requests on the staff pages, not the API.)",
    )
    justification: str = Field(
        "", max_length=2000, description="Why (required for the exceptions); sealed, never shown."
    )


class ShareOut(OutSchema):
    disclosure: int
    recipient: str
    categories: list[str]
    basis: str
    released_at: datetime
    data: dict[str, Any]


class ShareRefused(Exception):
    def __init__(self, refusal: services.Refusal) -> None:
        self.refusal = refusal
        super().__init__(str(refusal.reason))


def refusal_response(request: HttpRequest, refusal: services.Refusal) -> HttpResponse:
    """A problem document for a refusal: a generic ``code`` (or ``share.<reason>`` once the
    API lists it) and the stable ``reason``."""
    reason = f"share.{refusal.reason}"
    if reason in PROBLEM_TYPES:
        code = reason
    elif refusal.reason in _NOT_FOUND:
        code = "not_found"
    elif refusal.reason in _INVALID:
        code = "validation.failed"
    else:
        code = "forbidden"
    response = problem_response(request, code, REASON_TEXT[refusal.reason])
    body = json.loads(response.content)
    body["reason"] = reason
    response.content = json.dumps(body).encode()
    return response


def _answer_refusals(view: Callable[..., Any]) -> Callable[..., Any]:
    """Outside ``@idempotent``: a refusal is not stored as the key's answer, and it is
    answered as a problem document with its reason."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return view(request, *args, **kwargs)
        except ShareRefused as exc:
            return refusal_response(request, exc.refusal)

    return wrapper


_REFUSALS = {
    "403": "Refused by the gate (no consent, consent withdrawn, category not allowed, "
    "approval missing, expired or forged, ...); `reason` says which",
    "404": "Unknown recipient, person or purpose (`reason`: share.unknown_*)",
    "422": "Invalid body, or no or unknown category (`reason`: share.no_categories, ...)",
}


@router.post(
    "",
    response={201: ShareOut},
    summary="Disclose a person's data to a recipient, if allowed",
    auth=api_auth(Scope.SHARE_REQUEST),
    openapi_extra={
        "responses": {status: problem_openapi_response(text) for status, text in _REFUSALS.items()}
    },
)
@_answer_refusals
@idempotent
def share(request: HttpRequest, payload: ShareIn) -> Any:
    """Ask the share gate to release `categories` of `person`'s data to `recipient`.

    Released only if the person consented to that recipient and purpose (`basis`
    consent), or the disclosure rests on the recipient's exception with a
    `justification`. The answer holds
    exactly the categories asked for. Every release and refusal is recorded in the
    audit log, and each release is listed on the person's own page.
    """
    actor = api_actor(request)
    person = services.find_person(payload.person)
    result = services.request_share(
        recipient=payload.recipient,
        person=person,
        categories=payload.categories,
        purpose=payload.purpose,
        basis=payload.basis,
        justification=payload.justification,
        actor=actor,
        record_refusal=False,
    )
    if isinstance(result, services.Refusal):
        refusal = result
        recipient = services._find_recipient(payload.recipient)

        def record() -> None:
            services.record_refusal_event(
                refusal,
                recipient=recipient,
                person=person,
                basis=payload.basis,
                actor=actor,
            )

        defer_refusal(request, record)
        raise ShareRefused(refusal)
    disclosure = result.disclosure
    return Status(
        201,
        {
            "disclosure": disclosure.pk,
            "recipient": payload.recipient,
            "categories": result.categories,
            "basis": disclosure.basis,
            "released_at": disclosure.released_at,
            "data": result.data,
        },
    )
