"""The API's outer layer: the per-IP rate limit, and problem documents for every
failure under ``/api/``, including those that never reach the API's own views
(an unknown address, a wrong method, a refused Host header, a crash elsewhere).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from safehold.accounts.adapter import client_ip
from safehold.api import origins, ratelimit
from safehold.api.errors import code_for_status, is_problem, problem_response

API_PREFIX = "/api/"
# Headers of an error response that the problem document keeps.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")
# Browsers on a site key's allowed origins may call these (the embedded consent script).
CORS_PREFIX = "/api/v1/consent/"
CORS_MAX_AGE = 600


class ApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        # The consent fast path counts its requests before their key is looked up.
        counted = getattr(request, "api_rate_counted", False)
        wait = (
            None
            if counted
            else ratelimit.hit(
                f"ip:{client_ip(request) or 'unknown'}", settings.SAFEHOLD_API_RATE_IP
            )
        )
        if wait is not None:
            return problem_response(
                request,
                "rate_limited",
                f"Too many requests from this address; try again in {wait} s.",
                headers={"Retry-After": str(wait)},
            )
        origin = request.headers.get("Origin")
        cors = bool(origin) and request.path_info.startswith(CORS_PREFIX)
        if (
            cors
            and request.method == "OPTIONS"
            and "Access-Control-Request-Method" in request.headers
        ):
            return _preflight(request, origin or "")
        response = self.get_response(request)
        if cors and origins.is_site_origin(origin or ""):
            _allow_origin(response, origin or "")
        if response.status_code >= 400 and not is_problem(response):
            kept = {name: response[name] for name in _KEPT_HEADERS if response.has_header(name)}
            response = problem_response(
                request,
                code_for_status(response.status_code),
                status=response.status_code,
                headers=kept,
            )
            if cors and origins.is_site_origin(origin or ""):
                _allow_origin(response, origin or "")
        # API answers can hold personal data: no browser or shared cache keeps them.
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response


def _allow_origin(response: HttpResponse, origin: str) -> None:
    """CORS for an allowed origin, without credentials (the embed sends none)."""
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Expose-Headers"] = "X-Request-ID, Retry-After, Idempotent-Replayed"
    patch_vary_headers(response, ["Origin"])


def _preflight(request: HttpRequest, origin: str) -> HttpResponse:
    """Answer a CORS preflight: 204 for an origin some site key allows, else 403."""
    if not origins.is_site_origin(origin):
        return problem_response(
            request, "forbidden", "No site key allows this origin to call the API."
        )
    response = HttpResponse(status=204)
    _allow_origin(response, origin)
    response["Access-Control-Allow-Methods"] = "GET, POST"
    response["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Idempotency-Key"
    response["Access-Control-Max-Age"] = str(CORS_MAX_AGE)
    return response
