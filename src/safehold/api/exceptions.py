"""Domain errors of the API app.

``ApiProblem`` and its subclasses are failures of one API request: the API turns
each into an ``application/problem+json`` answer with the class's stable ``code``
(safehold.api.errors). ``ApiKeyError`` and its subclasses are refusals of the key
services, which the command line and the admin show as a one-line message.
"""

from __future__ import annotations


class ApiProblem(Exception):
    """A request the API refuses. ``code`` is listed in ``errors.PROBLEM_TYPES``."""

    code = "request.bad"

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None):
        self.detail = detail
        self.headers = headers or {}
        super().__init__(self.code)


class InvalidApiKey(ApiProblem):
    """Not a Safehold key, or no key with that secret exists."""

    code = "auth.invalid_key"


class ApiKeyRevoked(ApiProblem):
    code = "auth.key_revoked"


class ApiKeyExpired(ApiProblem):
    code = "auth.key_expired"


class MissingScope(ApiProblem):
    code = "auth.missing_scope"


class CsrfFailed(ApiProblem):
    code = "auth.csrf_failed"


class RateLimited(ApiProblem):
    code = "rate_limited"

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(
            f"Too many requests; try again in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


class MalformedJson(ApiProblem):
    code = "request.malformed_json"


class InvalidUtf8(ApiProblem):
    code = "request.invalid_utf8"


class UnsupportedMediaType(ApiProblem):
    code = "request.unsupported_media_type"


class InvalidIdempotencyKey(ApiProblem):
    code = "idempotency.invalid_key"


class IdempotencyKeyReused(ApiProblem):
    code = "idempotency.key_reused"


class IdempotencyInProgress(ApiProblem):
    code = "idempotency.in_progress"

    def __init__(self) -> None:
        super().__init__(
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            headers={"Retry-After": "1"},
        )


class ApiKeyError(Exception):
    """A key cannot be created or changed as asked; the message says why in one line."""


class ApiKeyNotFound(ApiKeyError):
    pass


class InvalidKeySettings(ApiKeyError):
    """Unknown scope, a scope the key's kind may not hold, or an expiry in the past."""
