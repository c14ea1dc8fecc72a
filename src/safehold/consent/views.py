"""Cookie settings, the banner's form, GPC's well-known file and the account page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from safehold.accounts.adapter import client_ip
from safehold.audit.services import Actor
from safehold.consent import services, web
from safehold.consent.forms import ChoiceForm, EnableForm
from safehold.consent.models import ConsentRecord

GPC_LAST_UPDATE = "2026-11-25"


def _next_url(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("home")


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _record(request: HttpRequest, choices: dict[str, bool], method: str) -> ConsentRecord:
    user = request.user if request.user.is_authenticated else None
    return services.record_choice(
        visitor_id=web.visitor_id(request) or services.new_visitor_id(),
        choices=choices,
        method=method,
        gpc=services.has_gpc(request.headers),
        actor=Actor.from_request(request),
        user=user,
        ip=client_ip(request),
        language=translation.get_language() or "",
    )


def _answer(request: HttpRequest, record: ConsentRecord, next_url: str) -> HttpResponse:
    response: HttpResponse
    if _wants_json(request):
        response = JsonResponse({"allowed": record.allowed, "recorded_at": record.created_at})
    else:
        messages.success(request, _("Your cookie choice has been saved."))
        response = HttpResponseRedirect(next_url)
    web.set_choice_cookies(request, response, record)
    return response


def _category_rows(config: services.Config, state: services.ConsentState) -> list[dict[str, Any]]:
    language = translation.get_language()
    return [
        {
            "slug": c.slug,
            "name": c.name(language),
            "description": c.description(language),
            "necessary": c.is_necessary,
            "sale": c.is_sale_or_sharing,
            "cookies": c.cookies,
            "allowed": state.allows(c.slug),
        }
        for c in config.categories
    ]


@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    """See the categories and what you allow; change it (method "settings")."""
    config = services.get_config()
    state = web.consent_of(request)
    if request.method == "POST":
        form = ChoiceForm(request.POST, config=config)
        if form.is_valid():
            record = _record(request, form.choices(gpc=state.gpc), "settings")
            return _answer(
                request, record, _next_url(request, form.cleaned_data["next"] or request.path)
            )
        status = 400
    else:
        form = ChoiceForm(config=config)
        status = 200
    visitor = web.visitor_id(request)
    latest = services.latest_record(visitor) if visitor else None
    context = {
        "categories": _category_rows(config, state),
        "state": state,
        "form": form,
        "latest": latest if latest is not None and not state.needs_choice else None,
        "next": _next_url(request, request.GET.get("next") or request.POST.get("next")),
        "hide_consent_banner": True,
    }
    return render(request, "consent/settings.html", context, status=status)


@require_POST
def choose(request: HttpRequest) -> HttpResponse:
    """The banner's form: Accept all, Reject all, or the ticked categories."""
    config = services.get_config()
    form = ChoiceForm(request.POST, config=config)
    if not form.is_valid():
        if _wants_json(request):
            return JsonResponse({"error": _("Choose Accept all, Reject all or Save.")}, status=400)
        messages.error(request, _("Your cookie choice could not be read; please choose again."))
        return HttpResponseRedirect(reverse("consent_settings"))
    state = web.consent_of(request)
    record = _record(request, form.choices(gpc=state.gpc), "banner")
    return _answer(request, record, _next_url(request, form.cleaned_data["next"]))


@require_POST
def enable(request: HttpRequest) -> HttpResponse:
    """Allow one more category, keeping the rest of the visitor's choice."""
    config = services.get_config()
    form = EnableForm(request.POST)
    if not form.is_valid() or form.cleaned_data["category"] not in config.slugs:
        messages.error(request, _("There is no such cookie category."))
        return HttpResponseRedirect(reverse("consent_settings"))
    state = web.consent_of(request)
    choices = {c.slug: state.allows(c.slug) for c in config.categories if not c.is_necessary}
    choices[form.cleaned_data["category"]] = True
    record = _record(request, choices, "settings")
    return _answer(request, record, _next_url(request, form.cleaned_data["next"]))


@require_GET
@cache_control(max_age=86400, public=True)
def gpc_json(request: HttpRequest) -> HttpResponse:
    """``/.well-known/gpc.json``: this site honours Global Privacy Control."""
    return JsonResponse({"gpc": True, "lastUpdate": GPC_LAST_UPDATE})


@login_required
def history(request: HttpRequest) -> HttpResponse:
    """The signed-in person's cookie choices, newest first."""
    records = ConsentRecord.objects.filter(user_id=int(request.user.pk or 0)).order_by("-id")[:200]
    config = services.get_config()
    language = translation.get_language()
    names = {c.slug: c.name(language) for c in config.categories}
    rows = [
        {
            "record": r,
            "allowed": [names.get(s, s) for s in r.allowed],
            "refused": [names.get(s, s) for s, v in r.choices.items() if not v],
        }
        for r in records
    ]
    return render(request, "consent/history.html", {"rows": rows, "nav": "cookies"})
