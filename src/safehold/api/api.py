"""The HTTP API, version 1, mounted at ``/api/v1/``.

Each feature app keeps its routes in its own ``api.py`` (a ninja ``Router``) and
is mounted here, in ``ROUTERS``; everything an API needs in common lives in this
app: keys and scopes (auth.py), problem documents (errors.py), rate limits
(ratelimit.py, middleware.py) and idempotency (idempotency.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import NinjaAPI, Path, Router, Schema
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation

from safehold.api.auth import Caller, api_auth
from safehold.api.docs import SwaggerDocs
from safehold.api.errors import (
    PROBLEM_SCHEMA,
    PROBLEM_TYPES,
    JsonParser,
    install_handlers,
    problem_openapi_response,
)
from safehold.api.exceptions import ApiProblem
from safehold.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from safehold.api.idempotency import KEY_PATTERN as IDEMPOTENCY_KEY_PATTERN
from safehold.api.scopes import Scope

DESCRIPTION = """\
The HTTP API of this Safehold installation, for the operator's other systems.

* **Authentication**: `Authorization: Bearer <key>`, with a key made by staff in the
  admin or with `safehold apikey create`. Each operation names the scopes it needs.
* **Errors**: every failure is `application/problem+json` (RFC 9457) with a stable
  `code` and the `request_id`; see `GET /api/v1/problems/{code}`.
* **Limits**: per key and per IP address; over a limit the answer is 429 with
  `Retry-After`.
* **Retries**: writes accept an `Idempotency-Key` header.
"""


class SafeholdOpenAPISchema(OpenAPISchema):
    """ninja's document, plus each operation's scopes and its problem responses."""

    def operation_security(self, operation: Operation) -> list[dict[str, Any]] | None:
        if not operation.auth_callbacks:
            return None
        result = []
        for auth in operation.auth_callbacks:
            if hasattr(auth, "openapi_security_schema"):
                name = type(auth).__name__
                # OpenAPI 3.1 allows role names here for non-OAuth schemes: the scopes.
                result.append({name: sorted(getattr(auth, "scopes", ()))})
                self.securitySchemes[name] = auth.openapi_security_schema
        return result

    def operation_details(self, operation: Operation) -> dict[str, Any]:
        details = super().operation_details(operation)
        responses = details["responses"]

        def add(status: str, code: str | None = None, text: str | None = None) -> None:
            if status not in responses:
                description = text or PROBLEM_TYPES[code or ""].title
                responses[status] = problem_openapi_response(description)

        if details.get("security"):
            add("401", text="No key, or a bad, revoked or expired one (auth.*)")
            add("403", text="The key lacks a scope this operation needs (auth.missing_scope)")
            scopes = sorted({s for req in details["security"] for v in req.values() for s in v})
            if scopes:
                needs = "Needs the scope " + ", ".join(f"`{s}`" for s in scopes) + "."
                details["description"] = (details.get("description", "") + "\n\n" + needs).strip()
        if getattr(operation.view_func, "is_idempotent", False):
            details.setdefault("parameters", []).append(
                {
                    "in": "header",
                    "name": IDEMPOTENCY_HEADER,
                    "required": False,
                    "description": "Makes a retry safe: the same key and request within 24 hours "
                    "get the first answer again, and the work is done once.",
                    "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
                }
            )
            add("409", "idempotency.in_progress")
        if details.get("requestBody"):
            add("400", text="Malformed JSON or invalid UTF-8 (request.*)")
            add("413", "request.too_large")
            add("415", "request.unsupported_media_type")
        if details.get("requestBody") or details.get("parameters"):
            add("422", "validation.failed")
        add("429", "rate_limited")
        add("4XX", text="Any other refusal, as a problem document")
        add("5XX", text="A server error, as a problem document")
        return details

    def get_components(self) -> dict[str, Any]:
        components = super().get_components()
        components["schemas"]["Problem"] = PROBLEM_SCHEMA
        return components


class SafeholdAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        return SafeholdOpenAPISchema(api=self, path_prefix=path_prefix)


def build_api(routers: list[tuple[str, Router]], *, urls_namespace: str = "api-v1") -> SafeholdAPI:
    """A ninja API with Safehold's docs page, JSON parser and problem documents."""
    api = SafeholdAPI(
        title="Safehold API",
        version="1",
        description=DESCRIPTION,
        docs=SwaggerDocs(),
        docs_url="/docs",
        openapi_url="/openapi.json",
        parser=JsonParser(),
        urls_namespace=urls_namespace,
    )
    install_handlers(api)
    for prefix, router in routers:
        api.add_router(prefix, router)
    return api


# --- The API's own routes ---------------------------------------------------------------------

router = Router(tags=["API"])


class Health(Schema):
    status: Literal["ok"]


class Me(Schema):
    kind: Literal["server", "site", "session"]
    name: str | None
    key_prefix: str | None
    scopes: list[str]
    created_at: datetime | None
    expires_at: datetime | None


class ProblemTypeOut(Schema):
    code: str
    status: int
    title: str
    description: str


@router.get("/health", response=Health, summary="Is the server answering?", auth=None)
def health(request: HttpRequest) -> dict[str, str]:
    """No key needed. Answers as soon as the process is up; reads no database."""
    return {"status": "ok"}


@router.get(
    "/me",
    response=Me,
    summary="Who am I?",
    auth=api_auth(Scope.KEYS_READ, session=True),
)
def me(request: HttpRequest) -> dict[str, Any]:
    """The calling key's name, prefix, scopes and expiry (a session: its scopes)."""
    caller: Caller = request.auth  # type: ignore[attr-defined]  # set by ninja's auth
    key = caller.api_key
    return {
        "kind": caller.kind,
        "name": key.name if key else None,
        "key_prefix": key.display_prefix if key else None,
        "scopes": sorted(caller.scopes),
        "created_at": key.created_at if key else None,
        "expires_at": caller.expires_at,
    }


class UnknownProblemType(ApiProblem):
    code = "not_found"


@router.get(
    "/problems/{code}",
    response=ProblemTypeOut,
    summary="What does this error code mean?",
    auth=None,
)
def problem_type(
    request: HttpRequest,
    code: str = Path(..., max_length=100, examples=["rate_limited", "auth.missing_scope"]),
) -> dict[str, Any]:
    """The problem type that a problem document's `type` names: its status and meaning."""
    kind = PROBLEM_TYPES.get(code)
    if kind is None:
        raise UnknownProblemType("There is no problem type with this code.")
    return {
        "code": code,
        "status": kind.status,
        "title": kind.title,
        "description": kind.description,
    }


# Each feature app's routes: the app's api.py holds a ninja Router.
def _routers() -> list[tuple[str, Router]]:
    from safehold.api.routes_audit import router as audit_router
    from safehold.consent.api import router as consent_router
    from safehold.policy.api import router as policy_router
    from safehold.rights.api import router as rights_router
    from safehold.sharing.api import router as sharing_router

    return [
        ("", router),
        ("/audit", audit_router),
        ("/consent", consent_router),
        ("/statement", policy_router),
        ("/share", sharing_router),
        ("/export", rights_router),
    ]


ROUTERS: list[tuple[str, Router]] = _routers()

api = build_api(ROUTERS)
