"""The OpenAPI document, the docs page served by Safehold alone, and docs/api.md."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from safehold.api.errors import PROBLEM_CONTENT_TYPE, PROBLEM_TYPES
from safehold.api.scopes import Scope

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def openapi(client, db) -> dict:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_openapi_document_lists_every_operation(openapi) -> None:  # type: ignore[no-untyped-def]
    assert openapi["openapi"].startswith("3.")
    assert openapi["info"]["title"] == "Safehold API"
    assert set(openapi["paths"]) >= {"/api/v1/health", "/api/v1/me", "/api/v1/problems/{code}"}


def test_each_operation_names_its_scopes_and_its_problems(openapi) -> None:  # type: ignore[no-untyped-def]
    me = openapi["paths"]["/api/v1/me"]["get"]
    assert {"ApiKeyAuth": ["keys:read"]} in me["security"]
    assert "`keys:read`" in me["description"]
    for status in ("401", "403", "429", "4XX", "5XX"):
        content = me["responses"][status]["content"]
        assert list(content) == [PROBLEM_CONTENT_TYPE]
        assert content[PROBLEM_CONTENT_TYPE]["schema"] == {"$ref": "#/components/schemas/Problem"}
    problem = openapi["components"]["schemas"]["Problem"]
    assert set(problem["properties"]["code"]["enum"]) == set(PROBLEM_TYPES)
    schemes = openapi["components"]["securitySchemes"]
    assert schemes["ApiKeyAuth"]["scheme"] == "bearer"
    health = openapi["paths"]["/api/v1/health"]["get"]
    assert "security" not in health
    assert "401" not in health["responses"]


class _Page(HTMLParser):
    """Every URL a page refers to, and whether it has inline script or style."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self.inline_styles = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.urls += [v for k, v in attrs if k in {"src", "href", "action"} and v]
        if tag == "script":
            self._in_script = "src" not in values
        if tag == "style" or "style" in values or any(k.startswith("on") for k in values):
            self.inline_styles += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1


def test_the_docs_page_loads_everything_from_this_server(client, db) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    html = response.content.decode()
    page = _Page()
    page.feed(html)
    assert page.inline_scripts == 0
    assert page.inline_styles == 0
    assert not re.search(r"(?i)\b(?:https?:)?//[a-z0-9.-]+", html), "a reference to another host"
    assert page.urls
    for url in page.urls:
        assert url.startswith("/static/"), url
        assert client.get(url).status_code == 200, url
    assert "/static/ninja/swagger-ui-bundle.js" in page.urls


def test_the_docs_script_sends_nothing_to_another_host(client, db) -> None:  # type: ignore[no-untyped-def]
    script = (ROOT / "src/safehold/api/static/api/docs.js").read_text()
    assert "validatorUrl: null" in script  # else Swagger UI asks validator.swagger.io


def test_docs_api_md_documents_every_problem_code_and_scope() -> None:
    text = (ROOT / "docs" / "api.md").read_text()
    documented_codes = set(re.findall(r"^\| `([a-z_.0-9]+)` \| \d{3} \|", text, re.MULTILINE))
    assert documented_codes == set(PROBLEM_TYPES)
    for scope in Scope:
        assert f"`{scope.value}`" in text
