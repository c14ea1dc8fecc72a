"""The API's readable documentation at /api/v1/docs: Swagger UI, served by Safehold.

ninja's own page can load Swagger UI from a CDN; this one loads the copy that ships
inside the django-ninja package (as static files of this server) and starts it
from a static script, so the Content-Security-Policy (scripts from this host only,
no inline script) holds on it as on every other page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja.openapi.docs import DocsBase

if TYPE_CHECKING:
    from ninja import NinjaAPI


class SwaggerDocs(DocsBase):
    template = "api/docs.html"

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        return render(
            request,
            self.template,
            {"api": api, "openapi_url": self.get_openapi_url(api, kwargs)},
        )
