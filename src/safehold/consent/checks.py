"""The consent app's live promise checks, and its account-centre card."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.test import RequestFactory
from django.utils.translation import gettext_lazy as _

from safehold.consent import services
from safehold.consent.models import ConsentRecord
from safehold.core.promises import Result, Status


def check_categories() -> Result:
    """A strictly necessary category and at least one a visitor can refuse, each with
    texts in both languages."""
    config = services.load_config()
    if not config.necessary:
        return Result(Status.BROKEN, _("No strictly necessary cookie category is configured."))
    optional = [c for c in config.categories if not c.is_necessary]
    if not optional:
        return Result(Status.BROKEN, _("There is no cookie category a visitor can refuse."))
    missing = [
        c.slug
        for c in config.categories
        if not (c.name_en and c.name_zh and c.description_en and c.description_zh)
    ]
    if missing:
        return Result(
            Status.BROKEN, _("Categories without texts in both languages: %s") % ", ".join(missing)
        )
    return Result(
        Status.HOLDS,
        _("%(count)d categories; %(records)d choices kept as proof.")
        % {"count": len(config.categories), "records": ConsentRecord.objects.count()},
    )


def check_banner() -> Result:
    """Render the banner for a first visit with GPC and look at it: Accept all and
    Reject all as buttons of the same kind, and the GPC notice."""
    from django.template.loader import render_to_string

    from safehold.consent import web

    request = RequestFactory().get("/", HTTP_SEC_GPC="1")
    request.consent = web.state_from_request(request)  # type: ignore[attr-defined]  # our request attribute
    html = render_to_string("consent/_banner.html", {"request": request})
    accept = html.count('value="all"')
    reject = html.count('value="none"')
    if accept != 1 or reject != 1:
        return Result(Status.BROKEN, _("The banner lacks Accept all or Reject all."))
    if 'class="sh-gpc"' not in html:
        return Result(Status.BROKEN, _("The banner does not show that GPC was honoured."))
    return Result(Status.HOLDS, _("Accept all and Reject all are equal buttons; GPC is shown."))


def centre_context(request: HttpRequest) -> dict[str, Any]:
    records = ConsentRecord.objects.filter(user_id=int(request.user.pk or 0))
    latest = records.order_by("-id").first()
    return {"latest": latest, "count": records.count()}
