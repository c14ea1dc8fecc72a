"""One error format for the whole API: ``application/problem+json`` (RFC 9457).

Every failure answers a problem document::

    {"type": "/api/v1/problems/auth.invalid_key", "title": "Invalid API key",
     "status": 401, "detail": "...", "code": "auth.invalid_key",
     "request_id": "3f2a9c0d1e4b5a6f"}

``code`` is stable and machine-readable (``PROBLEM_TYPES`` is the list, and
docs/api.md documents it); ``detail`` is for people; ``request_id`` is also in the
``X-Request-ID`` header and in the server's log lines. A validation problem adds
``errors``: one entry per field, naming it. No problem document carries a stack
trace or any value the client sent (it can be personal data).
"""

from __future__ import annotations

import json
import logging
import math
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from safehold.api.exceptions import (
    ApiProblem,
    InvalidUtf8,
    MalformedJson,
    UnsupportedMediaType,
)

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "/api/v1/problems/"
# A validation problem lists at most this many fields; a field name is cut to this length.
MAX_FIELD_ERRORS = 50
MAX_FIELD_NAME = 100


@dataclass(frozen=True)
class ProblemType:
    status: int
    title: str
    description: str


PROBLEM_TYPES: dict[str, ProblemType] = {
    "auth.missing_credentials": ProblemType(
        401, "Authentication required", "No API key (Authorization: Bearer ...) was sent."
    ),
    "auth.invalid_key": ProblemType(
        401, "Invalid API key", "The key is malformed, or no key has this secret."
    ),
    "auth.key_revoked": ProblemType(401, "API key revoked", "The key has been revoked."),
    "auth.key_expired": ProblemType(401, "API key expired", "The key's expiry date has passed."),
    "auth.missing_scope": ProblemType(
        403, "Missing scope", "The key is valid but does not hold the scope this operation needs."
    ),
    "auth.csrf_failed": ProblemType(
        403,
        "CSRF check failed",
        "A write with the signed-in session needs the X-CSRFToken header.",
    ),
    "forbidden": ProblemType(403, "Forbidden", "The request is not allowed."),
    "not_found": ProblemType(404, "Not found", "There is nothing at this address."),
    "method_not_allowed": ProblemType(
        405, "Method not allowed", "This address does not answer this HTTP method."
    ),
    "idempotency.in_progress": ProblemType(
        409,
        "Request in progress",
        "A request with the same Idempotency-Key is still being processed.",
    ),
    "request.too_large": ProblemType(
        413, "Request too large", "The request body is larger than the server accepts."
    ),
    "request.unsupported_media_type": ProblemType(
        415, "Unsupported media type", "Send request bodies as application/json."
    ),
    "request.bad": ProblemType(400, "Bad request", "The request could not be understood."),
    "request.malformed_json": ProblemType(
        400, "Malformed JSON", "The request body is not a valid JSON document."
    ),
    "request.invalid_utf8": ProblemType(
        400, "Invalid UTF-8", "The request body is not valid UTF-8 text."
    ),
    "idempotency.invalid_key": ProblemType(
        400,
        "Invalid Idempotency-Key",
        "The Idempotency-Key header must be 1 to 255 printable ASCII characters.",
    ),
    "validation.failed": ProblemType(
        422, "Validation failed", "Some fields are missing, unknown or invalid; see errors."
    ),
    "idempotency.key_reused": ProblemType(
        422,
        "Idempotency-Key reused",
        "This Idempotency-Key was used for a different request in the last 24 hours.",
    ),
    "rate_limited": ProblemType(
        429, "Too many requests", "A rate limit was reached; wait for Retry-After seconds."
    ),
    "server.error": ProblemType(
        500, "Server error", "The server failed; the request id helps the operator find out why."
    ),
    "maintenance": ProblemType(
        503,
        "Maintenance",
        "The service is in read-only maintenance mode; retry after Retry-After seconds.",
    ),
}


def _share_refusals() -> dict[str, ProblemType]:
    """The share gate's refusals (safehold.sharing), one code each: ``share.<reason>``."""
    from safehold.sharing.exceptions import REASON_TEXT, Reason

    status = {
        Reason.UNKNOWN_RECIPIENT: 404,
        Reason.UNKNOWN_PERSON: 404,
        Reason.UNKNOWN_PURPOSE: 404,
        Reason.NO_CATEGORIES: 422,
        Reason.UNKNOWN_CATEGORY: 422,
    }
    return {
        f"share.{reason.value}": ProblemType(
            status.get(reason, 403), "Share refused", REASON_TEXT[reason]
        )
        for reason in Reason
    }


PROBLEM_TYPES.update(_share_refusals())

# The code for a failure that arrives only as a status (from Django or ninja).
_CODE_FOR_STATUS = {
    400: "request.bad",
    401: "auth.missing_credentials",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request.too_large",
    415: "request.unsupported_media_type",
    422: "validation.failed",
    429: "rate_limited",
}


def code_for_status(status: int) -> str:
    if status in _CODE_FOR_STATUS:
        return _CODE_FOR_STATUS[status]
    return "server.error" if status >= 500 else "request.bad"


def problem_response(
    request: HttpRequest,
    code: str,
    detail: str | None = None,
    *,
    status: int | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """An ``application/problem+json`` response for ``code`` (a key of ``PROBLEM_TYPES``)."""
    kind = PROBLEM_TYPES[code]
    status = status or kind.status
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": kind.title,
        "status": status,
        "detail": detail or kind.description,
        "code": code,
        "request_id": getattr(request, "request_id", None),
    }
    if errors is not None:
        body["errors"] = errors
    response = HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    if status == 401:
        # RFC 9110 section 11.6.1: a 401 names the scheme that would work.
        response["WWW-Authenticate"] = 'Bearer realm="safehold"'
    return response


def is_problem(response: HttpResponse) -> bool:
    return str(response.get("Content-Type", "")).startswith(PROBLEM_CONTENT_TYPE)


# --- Request bodies ------------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _read_number(text: str) -> float | int:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number is too large")
    # JSON has one kind of number: 5.0 is 5 (JSON Schema agrees that it is an
    # integer), so an integral number is read as an int; a float field takes it too.
    return int(value) if value.is_integer() else value


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        # Two values for one name: which one would count is not defined (RFC 8259).
        raise ValueError("an object has the same member name twice")
    return result


class JsonParser(Parser):
    """Strict JSON bodies: application/json, UTF-8, no NaN, no repeated member names."""

    def parse_body(self, request: HttpRequest) -> Any:
        content_type = (request.content_type or "").lower()
        if content_type != "application/json" and not content_type.endswith("+json"):
            raise UnsupportedMediaType(
                "Send the body as JSON with the header Content-Type: application/json."
            )
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidUtf8("The request body is not valid UTF-8.") from None
        try:
            data = json.loads(
                text,
                object_pairs_hook=_refuse_duplicates,
                parse_constant=_refuse_constant,
                parse_float=_read_number,
            )
        except json.JSONDecodeError as exc:
            raise MalformedJson(
                f"The request body is not valid JSON: {exc.msg} "
                f"(line {exc.lineno}, column {exc.colno})."
            ) from None
        except (ValueError, RecursionError) as exc:
            reason = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise MalformedJson(f"The request body is not valid JSON: {reason}.") from None
        if _has_lone_surrogate(data):
            # "\ud800" alone is JSON but not Unicode: it could not be stored or sent back.
            raise MalformedJson(
                "A string in the body holds an unpaired surrogate (\\uD800-\\uDFFF)."
            )
        return data


def _has_lone_surrogate(data: Any) -> bool:
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


# --- Exception handlers ----------------------------------------------------------------------


def _field_errors(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Name each invalid field, with pydantic's message and error type, never its value."""
    result = []
    for error in raw[:MAX_FIELD_ERRORS]:
        loc = [part[:MAX_FIELD_NAME] if isinstance(part, str) else part for part in error["loc"]]
        # ninja puts the source first ("body", "query", "path", "header") and, for a
        # body, the view's parameter name second: the field is what follows.
        path = loc[2:] if loc and loc[0] == "body" and len(loc) > 2 else loc[1:]
        result.append(
            {
                "field": ".".join(str(part) for part in path) or str(loc[0]),
                "loc": loc,
                "message": str(error.get("msg", "invalid")),
                "type": str(error.get("type", "invalid")),
            }
        )
    return result


def _log_server_error(request: HttpRequest, exc: BaseException) -> None:
    # The stack, but not the exception's message: messages can quote the data.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error(
        "api.server_error request_id=%s path=%s exception=%s\n%s",
        getattr(request, "request_id", "-"),
        request.path,
        type(exc).__name__,
        frames,
    )


def install_handlers(api: NinjaAPI) -> None:
    """Make ``api`` answer every exception with a problem document."""

    def on_problem(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
        return problem_response(request, exc.code, exc.detail, headers=exc.headers)

    def on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = _field_errors(exc.errors)
        names = ", ".join(error["field"] for error in errors[:5])
        return problem_response(
            request, "validation.failed", f"Invalid or unknown fields: {names}.", errors=errors
        )

    def on_authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem_response(
            request,
            "auth.missing_credentials",
            "Send an API key as Authorization: Bearer <key>.",
        )

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        # ninja wraps a parser's exception ("Cannot parse request body"): ours says more.
        if isinstance(exc.__cause__, ApiProblem):
            return on_problem(request, exc.__cause__)
        return problem_response(request, code_for_status(exc.status_code), status=exc.status_code)

    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem_response(request, "not_found")

    def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return problem_response(
            request, "request.too_large", "The request body is over the server's limit."
        )

    def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        return problem_response(request, "request.bad")

    def on_exception(request: HttpRequest, exc: Exception) -> HttpResponse:
        _log_server_error(request, exc)
        return problem_response(request, "server.error")

    handlers: list[tuple[type[Exception], Callable[[HttpRequest, Any], HttpResponse]]] = [
        (ApiProblem, on_problem),
        (ValidationError, on_validation),
        (AuthenticationError, on_authentication),
        (HttpError, on_http_error),
        (Http404, on_not_found),
        (RequestDataTooBig, on_too_big),
        (SuspiciousOperation, on_suspicious),
        (Exception, on_exception),
    ]
    for exception_class, handler in handlers:
        api.add_exception_handler(exception_class, handler)


# --- OpenAPI -------------------------------------------------------------------------------------

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error (RFC 9457). `code` is stable; see docs/api.md for the list.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code", "request_id"],
    "properties": {
        "type": {"type": "string", "description": "A URI reference naming the problem type."},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string", "enum": sorted(PROBLEM_TYPES)},
        "request_id": {"type": ["string", "null"]},
        "errors": {
            "type": "array",
            "description": "For validation.failed: one entry per invalid or unknown field.",
            "items": {
                "type": "object",
                "required": ["field", "loc", "message", "type"],
                "properties": {
                    "field": {"type": "string"},
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}


def problem_openapi_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
