"""The API's outer layer: the per-IP rate limit, and problem documents for every
failure under ``/api/``, including those that never reach the API's own views
(an unknown address, a wrong method, a refused Host header, a crash elsewhere).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from safehold.accounts.adapter import client_ip
from safehold.api import ratelimit
from safehold.api.errors import code_for_status, is_problem, problem_response

API_PREFIX = "/api/"
# Headers of an error response that the problem document keeps.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


class ApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        wait = ratelimit.hit(f"ip:{client_ip(request) or 'unknown'}", settings.SAFEHOLD_API_RATE_IP)
        if wait is not None:
            return problem_response(
                request,
                "rate_limited",
                f"Too many requests from this address; try again in {wait} s.",
                headers={"Retry-After": str(wait)},
            )
        response = self.get_response(request)
        if response.status_code >= 400 and not is_problem(response):
            kept = {name: response[name] for name in _KEPT_HEADERS if response.has_header(name)}
            response = problem_response(
                request,
                code_for_status(response.status_code),
                status=response.status_code,
                headers=kept,
            )
        # API answers can hold personal data: no browser or shared cache keeps them.
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response
