"""Who is calling: an API key (``Authorization: Bearer <key>``) or, where an
operation allows it, the signed-in session of a browser on Safehold's own pages.

``api_auth(*scopes, session=...)`` gives an operation's ``auth=``. Each check
raises a problem (safehold.api.errors): no credentials 401, a bad, revoked or
expired key 401, a missing scope 403, a session write without its CSRF token
403, and a caller over its rate limit 429.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from safehold.api import origins, ratelimit, services
from safehold.api.exceptions import CsrfFailed, InvalidApiKey, MissingScope
from safehold.api.models import ApiKey
from safehold.api.scopes import SESSION_SCOPES, Scope

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one request (``request.auth`` in a view)."""

    kind: Literal["server", "site", "session"]
    scopes: frozenset[Scope]
    api_key: ApiKey | None = None
    user_id: int | None = None

    @property
    def actor(self) -> str:
        """The caller as the audit log will name it: ``key:<id>`` or ``user:<id>``."""
        if self.api_key is not None:
            return f"key:{self.api_key.pk}"
        return f"user:{self.user_id}"

    @property
    def expires_at(self) -> datetime | None:
        return self.api_key.expires_at if self.api_key is not None else None


def _require(scopes: frozenset[Scope], held: frozenset[Scope], who: str) -> None:
    missing = sorted(scopes - held)
    if missing:
        raise MissingScope(f"{who} does not hold the scope {', '.join(missing)}.")


class ApiKeyAuth(HttpBearer):
    """``Authorization: Bearer sh_live_...``; the key must hold every one of ``scopes``."""

    openapi_description = (
        "An API key made with `safehold apikey create` or in the admin: "
        "`Authorization: Bearer sh_live_<prefix>_<secret>`."
    )

    def __init__(self, scopes: frozenset[Scope]) -> None:
        self.scopes = scopes
        super().__init__()

    def __call__(self, request: HttpRequest) -> Caller | None:
        header = request.headers.get("Authorization")
        if not header:
            return None  # perhaps a session; else ninja answers 401
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidApiKey("Send the key as Authorization: Bearer <key>.")
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Caller:
        api_key = services.authenticate_key(token)
        caller = Caller(kind=api_key.kind, scopes=services.key_scopes(api_key), api_key=api_key)  # type: ignore[arg-type]  # Kind values are the Literal's
        _require(self.scopes, caller.scopes, "This key")
        origin = request.headers.get("Origin")
        if api_key.kind == ApiKey.Kind.SITE and origin and not origins.key_allows(api_key, origin):
            # A copied site key does not work from another site's pages.
            raise origins.OriginNotAllowed(
                "This site key may not be used from this origin; add it to the key's "
                "allowed origins."
            )
        if api_key.kind == ApiKey.Kind.SERVER:
            # A site key is used by every visitor of the site at once: the per-IP
            # limit applies to it, a per-key one would lock the whole site out.
            ratelimit.enforce(f"key:{api_key.pk}", settings.SAFEHOLD_API_RATE_KEY)
        return caller


class SessionAuth(APIKeyCookie):
    """The browser's signed-in session, for Safehold's own pages; writes need CSRF."""

    openapi_description = "The session cookie of a person signed in to Safehold."

    def __init__(self, scopes: frozenset[Scope]) -> None:
        self.scopes = scopes
        self.param_name = settings.SESSION_COOKIE_NAME
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        # ninja would check CSRF before knowing whether anyone is signed in, so a
        # server that forgot its key would be told about CSRF: checked below instead.
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Caller | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if request.method not in _SAFE_METHODS and check_csrf(request) is not None:
            raise CsrfFailed("Send the CSRF token in the X-CSRFToken header.")
        caller = Caller(kind="session", scopes=SESSION_SCOPES, user_id=user.pk)
        _require(self.scopes, caller.scopes, "A signed-in session")
        ratelimit.enforce(f"user:{user.pk}", settings.SAFEHOLD_API_RATE_KEY)
        return caller


def api_auth(*scopes: Scope, session: bool = False) -> list[HttpBearer | APIKeyCookie]:
    """The ``auth=`` of an operation that needs ``scopes``: a key, or also a session."""
    needed = frozenset(scopes)
    methods: list[HttpBearer | APIKeyCookie] = [ApiKeyAuth(needed)]
    if session:
        methods.append(SessionAuth(needed))
    return methods
