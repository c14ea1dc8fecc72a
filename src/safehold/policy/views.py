"""The statement's pages: thin views over ``services`` and ``promise_map``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from safehold.audit.services import Actor
from safehold.policy import promise_map as pmap
from safehold.policy import rendering, services
from safehold.policy.exceptions import NothingToAcknowledge
from safehold.policy.forms import AcknowledgeForm, CompareForm, NoticeForm
from safehold.policy.models import StatementVersion


def _shown(version: StatementVersion) -> dict[str, Any]:
    """What a template needs to show one version in the reader's language."""
    text = services.text_for(version)
    language = (get_language() or "en").lower()
    return {
        "version": version,
        "text": text,
        "html": rendering.render_markdown(text.body) if text else "",
        "summary": text.summary if text else "",
        "fallback": text is not None and text.language != language,
        "status": services.version_status(version),
        "languages": sorted(t.language for t in version.texts.all()),
    }


def statement(request: HttpRequest) -> HttpResponse:
    current = services.current_version()
    if current is None:
        return render(request, "policy/none.html", status=503)
    context = _shown(current)
    context["upcoming"] = services.next_scheduled()
    return render(request, "policy/statement.html", context)


def version(request: HttpRequest, number: int) -> HttpResponse:
    found = services.get_published(number)
    if found is None:
        raise Http404("no such version")
    return render(request, "policy/statement.html", _shown(found))


@login_required
@permission_required("policy.preview_version", raise_exception=True)
def preview(request: HttpRequest, pk: int) -> HttpResponse:
    """A draft as it will look (staff with ``policy.preview_version``)."""
    found = StatementVersion.objects.filter(pk=pk).prefetch_related("texts").first()
    if found is None:
        raise Http404("no such draft")
    context = _shown(found)
    context["preview"] = True
    return render(request, "policy/statement.html", context)


def history(request: HttpRequest) -> HttpResponse:
    versions = services.published_versions()
    rows = []
    for i, v in enumerate(versions):
        text = services.text_for(v)
        rows.append(
            {
                "version": v,
                "status": services.version_status(v),
                "summary": text.summary if text else "",
                "previous": versions[i + 1].number if i + 1 < len(versions) else None,
            }
        )
    numbers = [v.number for v in versions]
    form = CompareForm(
        numbers=numbers,
        initial={
            "old": numbers[1] if len(numbers) > 1 else None,
            "new": numbers[0] if numbers else None,
        },
    )
    return render(request, "policy/history.html", {"rows": rows, "form": form})


def diff_form(request: HttpRequest) -> HttpResponse:
    """The history page's compare form (GET ?old=&new=) leads to the diff's stable URL."""
    numbers = [v.number for v in services.published_versions()]
    form = CompareForm(request.GET or None, numbers=numbers)
    if form.is_valid():
        return redirect("policy_diff", old=form.cleaned_data["old"], new=form.cleaned_data["new"])
    return render(
        request, "policy/diff_form.html", {"form": form}, status=400 if request.GET else 200
    )


def diff(request: HttpRequest, old: int, new: int) -> HttpResponse:
    left, right = services.get_published(old), services.get_published(new)
    if left is None or right is None:
        raise Http404("no such version")
    language = (get_language() or "en").lower()
    left_text, right_text = services.text_for(left, language), services.text_for(right, language)
    rows = rendering.diff_rows(
        left_text.body if left_text else "", right_text.body if right_text else ""
    )
    return render(
        request,
        "policy/diff.html",
        {
            "old": left,
            "new": right,
            "rows": rows,
            "changed": any(kind != "equal" and kind != "gap" for kind, _l, _r in rows),
            "old_summary": left_text.summary if left_text else "",
            "new_summary": right_text.summary if right_text else "",
        },
    )


@require_http_methods(["GET", "POST"])
def promise_map(request: HttpRequest) -> HttpResponse:
    """The statement's clauses beside their checks. Staff may run the checks now."""
    fresh = False
    if request.method == "POST":
        if not (request.user.is_authenticated and request.user.is_staff):
            raise PermissionDenied
        fresh = True
    result = pmap.results(fresh=fresh)
    if fresh:
        messages.success(request, _("The checks have just been run."))
        return HttpResponseRedirect(reverse("policy_promises"))
    return render(request, "policy/promises.html", {"map": result})


def _safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return reverse("account_centre")


@login_required
@require_http_methods(["GET", "POST"])
def acknowledge(request: HttpRequest) -> HttpResponse:
    user = request.user
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    pending = services.pending_acknowledgement(user)  # type: ignore[arg-type]  # our User
    if request.method == "POST":
        form = AcknowledgeForm(request.POST)
        target = services.get_published(form.cleaned_data["version"]) if form.is_valid() else None
        if target is None:
            messages.error(request, _("That version of the statement does not exist."))
            return redirect("policy_acknowledge")
        try:
            services.acknowledge(user, target, actor=Actor.from_request(request))  # type: ignore[arg-type]  # our User
        except NothingToAcknowledge:
            messages.error(request, _("That version of the statement is not in force yet."))
            return redirect("policy_acknowledge")
        messages.success(
            request,
            _("Thank you: you acknowledged version %(number)d of the privacy statement.")
            % {"number": target.number},
        )
        return HttpResponseRedirect(next_url)
    if pending is None:
        return HttpResponseRedirect(next_url)
    last = services.last_acknowledged(user)  # type: ignore[arg-type]  # our User
    since = last.version if last else _version_when_joined(user)
    context = _shown(pending)
    context.update(
        {
            "form": AcknowledgeForm(initial={"version": pending.number}),
            "next": next_url,
            "since": since if since is not None and since.number != pending.number else None,
        }
    )
    return render(request, "policy/acknowledge.html", context)


def _version_when_joined(user: Any) -> StatementVersion | None:
    """The version in force when the person joined (the first one, if they are older)."""
    found = services.current_version(user.date_joined)
    if found is None:
        found = (
            StatementVersion.objects.filter(published_at__isnull=False).order_by("number").first()
        )
    return found


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    """The account centre's page: acknowledgements and the e-mail preference."""
    user = request.user
    if request.method == "POST":
        form = NoticeForm(request.POST)
        if form.is_valid():
            enabled = form.cleaned_data["email_on_new_version"]
            services.set_notice_preference(user, enabled=enabled, actor=Actor.from_request(request))  # type: ignore[arg-type]  # our User
            messages.success(
                request,
                _("We will e-mail you when a new version takes effect.")
                if enabled
                else _("We will not e-mail you about new versions."),
            )
            return redirect("policy_account")
    else:
        form = NoticeForm(initial={"email_on_new_version": services.wants_notices(user)})  # type: ignore[arg-type]  # our User
    acks = user.statement_acks.select_related("version").order_by("-acknowledged_at")  # type: ignore[union-attr]  # our User's reverse relation
    return render(
        request,
        "policy/account.html",
        {
            "form": form,
            "acks": acks,
            "current": services.current_version(),
            "pending": services.pending_acknowledgement(user),  # type: ignore[arg-type]  # our User
        },
    )
