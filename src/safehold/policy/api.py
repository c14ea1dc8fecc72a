"""``/api/v1/statement``: the privacy statement in force, and any published version,
so that another site can show it (scope ``statement:read``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Path, Router, Schema

from safehold.api.auth import api_auth
from safehold.api.exceptions import ApiProblem
from safehold.api.scopes import Scope
from safehold.policy import rendering, services
from safehold.policy.models import StatementVersion

router = Router(tags=["Privacy statement"])


class NoSuchVersion(ApiProblem):
    code = "not_found"


class TextOut(Schema):
    language: str
    summary: str
    markdown: str
    html: str


class StatementOut(Schema):
    id: int
    number: int
    effective_at: datetime
    published_at: datetime
    material: bool
    status: str
    languages: list[str]
    texts: list[TextOut]
    url: str


def _out(request: HttpRequest, version: StatementVersion) -> dict[str, Any]:
    texts = sorted(version.texts.all(), key=lambda t: t.language)
    return {
        "id": version.pk,
        "number": version.number,
        "effective_at": version.effective_at,
        "published_at": version.published_at,
        "material": version.material,
        "status": services.version_status(version),
        "languages": [t.language for t in texts],
        "texts": [
            {
                "language": t.language,
                "summary": t.summary,
                "markdown": rendering.fill_placeholders(t.body),
                "html": str(rendering.render_markdown(t.body)),
            }
            for t in texts
        ],
        "url": request.build_absolute_uri(f"/privacy/v{version.number}/"),
    }


@router.get(
    "",
    response=StatementOut,
    summary="The privacy statement in force",
    auth=api_auth(Scope.STATEMENT_READ, session=True),
)
def current(request: HttpRequest) -> dict[str, Any]:
    """The version in force now: its number, dates, and its text in every language, as
    Markdown and as sanitised HTML ready to put on a page. 404 before any is published."""
    number = services.current_version_number()
    version = services.get_published(number) if number is not None else None
    if version is None:
        raise NoSuchVersion("no version of the privacy statement is in force")
    return _out(request, version)


@router.get(
    "/{number}",
    response=StatementOut,
    summary="One published version of the privacy statement",
    auth=api_auth(Scope.STATEMENT_READ, session=True),
)
def by_number(
    request: HttpRequest, number: int = Path(..., ge=1, le=2_147_483_647)
) -> dict[str, Any]:
    """A published version by its number (drafts are never shown); 404 if there is none."""
    version = services.get_published(number)
    if version is None:
        raise NoSuchVersion("there is no published version with this number")
    return _out(request, version)
