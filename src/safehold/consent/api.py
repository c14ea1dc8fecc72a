"""``/api/v1/consent/``: what the embed and the operator's other servers need.

- ``GET /config``: the categories, their texts and the versions a choice is made under
  (the embedded banner builds itself from this);
- ``POST /choices``: record a visitor's choice (``consent:write``; ``Idempotency-Key``);
- ``GET /visitors/{visitor_id}``: a visitor's current choice (``consent:read``).

A public site key works only from its allowed origins (safehold.api.auth); the CORS
headers for them come from safehold.api.middleware. Bad input records nothing: an
unknown key 401 ``auth.invalid_key``, an unknown category 422 ``validation.failed``
(naming ``choices.<slug>``), a malformed body 400 ``request.malformed_json``, a body
over ``SAFEHOLD_CONSENT_MAX_BODY_BYTES`` 413 ``request.too_large``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import translation
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import ValidationError

from safehold.api.auth import Caller, api_auth
from safehold.api.exceptions import ApiProblem
from safehold.api.idempotency import idempotent
from safehold.api.models import ApiKey
from safehold.api.schemas import InputSchema
from safehold.api.scopes import Scope
from safehold.api.services import api_actor, record_api_read
from safehold.consent import services
from safehold.consent.exceptions import UnknownCategory
from safehold.consent.models import ConsentRecord

router = Router(tags=["Cookies and consent"])

VISITOR_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
Method = Literal["banner", "settings", "gpc", "api"]


class NoChoice(ApiProblem):
    code = "not_found"


class CategoryOut(Schema):
    slug: str
    name: str
    description: str
    necessary: bool
    sale_or_sharing: bool
    cookies: list[str]


class ConfigOut(Schema):
    language: str
    categories: list[CategoryOut]
    categories_version: str
    banner_version: str
    statement_version: int | None
    cookie_section_version: int
    renew_days: int
    texts: dict[str, str]


class ConfigQuery(Schema):
    lang: Literal["en", "zh-hans"] = "en"


def _name_the_categories(schema: dict[str, Any]) -> None:
    """The document names the categories configured now: any other key is refused."""
    try:
        slugs = [c.slug for c in services.get_config().categories]
    except Exception:  # no database yet (the document built at start-up): stay generic
        return
    schema["properties"]["choices"] = {
        "title": "Choices",
        "description": "Category identifier -> allowed. Categories not named are refused; "
        "strictly necessary ones are always on.",
        "type": "object",
        "properties": {slug: {"type": "boolean"} for slug in slugs},
        "additionalProperties": False,
    }


class ChoiceIn(InputSchema):
    model_config = InputSchema.model_config | {"json_schema_extra": _name_the_categories}

    visitor_id: str = Field(
        ...,
        pattern=VISITOR_PATTERN,
        description="The visitor's random id (16-64 of A-Z a-z 0-9 _ -).",
    )
    choices: dict[str, bool] = Field(
        ...,
        max_length=50,
        description="Category slug -> allowed. Categories not named are refused; strictly "
        "necessary ones are always on.",
    )
    method: Method = Field("api", description="How the visitor chose.")
    gpc: bool = Field(False, description="The browser sent a Global Privacy Control signal.")
    language: Literal["", "en", "zh-hans"] = ""
    visitor_ip: str | None = Field(
        None,
        max_length=45,
        description="Server keys only: the visitor's IP, stored truncated (/24, /48). A site "
        "key's request is the visitor's own, so its address is used.",
    )


class ChoiceOut(Schema):
    id: int
    visitor_id: str
    choices: dict[str, bool]
    allowed: list[str]
    method: Method
    gpc: bool
    recorded_at: datetime
    statement_version: int | None
    categories_version: str
    banner_version: str
    needs_renewal: bool = Field(
        ...,
        description="The choice must be asked again: the categories or the statement's "
        "cookie section changed, or it is older than the renewal period.",
    )


def choice_out(record: ConsentRecord, config: services.Config) -> dict[str, Any]:
    stored = services.StoredChoice.from_record(record)
    return {
        "id": record.pk,
        "visitor_id": record.visitor_id,
        "choices": record.choices,
        "allowed": record.allowed,
        "method": record.method,
        "gpc": record.gpc,
        "recorded_at": record.created_at,
        "statement_version": record.statement_version,
        "categories_version": record.categories_version,
        "banner_version": record.banner_version,
        "needs_renewal": not services.is_current(stored, config),
    }


def _texts() -> dict[str, str]:
    from django.utils.translation import gettext as _

    return {
        "title": _("Cookies on this site"),
        "body": _(
            "We use cookies that the site needs to work (always on). With your permission we "
            "also use cookies to remember your preferences, to analyse how the site is used, "
            "and for marketing. Rejecting them never stops the site from working."
        ),
        "accept": _("Accept all"),
        "reject": _("Reject all"),
        "choose": _("Choose"),
        "save": _("Save my choices"),
        "always": _("always on"),
        "gpc": _(
            "Your browser sent a Global Privacy Control signal: we honour it, so marketing "
            "cookies stay off."
        ),
        "renewal": _(
            "Our cookies or our privacy statement have changed since you last chose, or your "
            "choice is a year old: please choose again."
        ),
        "settings": _("Cookie settings"),
    }


@router.get(
    "/config",
    response=ConfigOut,
    summary="Categories, texts and versions for a banner",
    auth=api_auth(Scope.CONSENT_READ),
)
def config(request: HttpRequest, query: Query[ConfigQuery]) -> dict[str, Any]:
    """What the embedded banner shows, in `lang`: the categories with their texts, the
    banner's texts, and the versions a choice is recorded under."""
    from django.conf import settings

    unknown = sorted(set(request.GET) - set(ConfigQuery.model_fields))
    if unknown:
        raise ValidationError(
            [
                {
                    "loc": ["query", name[:100]],
                    "msg": "unknown parameter",
                    "type": "extra_forbidden",
                }
                for name in unknown
            ]
        )
    current = services.get_config()
    with translation.override(query.lang):
        texts = _texts()
    return {
        "language": query.lang,
        "categories": [
            {
                "slug": c.slug,
                "name": c.name(query.lang),
                "description": c.description(query.lang),
                "necessary": c.is_necessary,
                "sale_or_sharing": c.is_sale_or_sharing,
                "cookies": list(c.cookies),
            }
            for c in current.categories
        ],
        "categories_version": current.categories_version,
        "banner_version": current.banner_version,
        "statement_version": current.statement_version,
        "cookie_section_version": current.cookie_section_version,
        "renew_days": settings.SAFEHOLD_CONSENT_RENEW_DAYS,
        "texts": texts,
    }


@router.post(
    "/choices",
    response={201: ChoiceOut},
    summary="Record a visitor's choice",
    auth=api_auth(Scope.CONSENT_WRITE),
)
@idempotent
def record_choice(request: HttpRequest, payload: ChoiceIn) -> Status:
    """Record the visitor's answer for each category, with its proof (time, method,
    statement and banner versions, truncated IP). Recording again is how a visitor
    changes or withdraws a choice."""
    caller: Caller = request.auth  # type: ignore[attr-defined]  # set by ninja's auth
    key: ApiKey | None = caller.api_key
    current = services.get_config()
    try:
        choices = services.full_choices(current, choices=payload.choices)
    except UnknownCategory as exc:
        raise ValidationError(
            [
                {
                    "loc": ["body", "payload", "choices", slug],
                    "msg": "no cookie category has this identifier",
                    "type": "unknown_category",
                }
                for slug in exc.slugs
            ]
        ) from None
    if key is not None and key.kind == ApiKey.Kind.SERVER and payload.visitor_ip:
        ip: str | None = payload.visitor_ip
    else:
        from safehold.accounts.adapter import client_ip

        ip = client_ip(request)
    record = services.record_choice(
        visitor_id=payload.visitor_id,
        choices=choices,
        method=payload.method,
        gpc=payload.gpc,
        actor=api_actor(request),
        site=key,
        ip=ip,
        language=payload.language,
        config=current,
    )
    return Status(201, choice_out(record, current))


@router.get(
    "/visitors/{visitor_id}",
    response=ChoiceOut,
    summary="A visitor's current choice",
    auth=api_auth(Scope.CONSENT_READ),
)
def visitor_choice(
    request: HttpRequest,
    visitor_id: str = Path(..., pattern=VISITOR_PATTERN, description="The visitor's id."),
) -> dict[str, Any]:
    """The visitor's latest recorded choice and whether it must be asked again; 404
    `not_found` if they have made none."""
    record = services.latest_record(visitor_id)
    if record is None:
        raise NoChoice("This visitor has not made a choice.")
    if record.user is not None:
        record_api_read(request, subject=record.user, operation="consent_visitor_choice")
    return choice_out(record, services.get_config())
