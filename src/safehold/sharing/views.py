"""The sharing pages: a few lines over the services.

- ``/account/sharing/``: the person's consents to share (give or withdraw, with
  history) and every disclosure of their data that they may see.
- ``/staff/sharing/legal/...``: legal requests, for staff with the legal role.
- ``/transparency``: the public report of legal requests (counts only).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from safehold.accounts.models import User
from safehold.audit.services import Actor
from safehold.sharing import services
from safehold.sharing.exceptions import (
    InvalidLegalRequest,
    NotLegalStaff,
    Reason,
    SelfApproval,
    WrongState,
)
from safehold.sharing.forms import ConsentForm, LegalRequestForm, OrderForm
from safehold.sharing.models import LegalRequest


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # login_required guarantees our user


# --- The person's page ------------------------------------------------------------------------


@login_required
@require_GET
def account_sharing(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "sharing/account.html",
        {
            "choices": services.consent_choices(user),
            "history": services.consent_history(user)[:100],
            "disclosures": services.visible_disclosures(user)[:500],
            "nav": "sharing",
        },
    )


@login_required
@require_POST
def account_consent(request: HttpRequest) -> HttpResponse:
    form = ConsentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("That choice could not be saved. Please try again."))
        return redirect("sharing_account")
    purpose = services.consent_purposes().filter(pk=form.cleaned_data["purpose"]).first()
    if purpose is None:
        messages.error(request, _("That sharing is no longer offered."))
        return redirect("sharing_account")
    grant = form.cleaned_data["action"] == "grant"
    services.set_consent(_user(request), purpose, grant=grant, actor=Actor.from_request(request))
    if grant:
        messages.success(
            request,
            _("You agreed that %(recipient)s may receive your data %(purpose)s.")
            % {"recipient": purpose.recipient.name, "purpose": purpose.description},
        )
    else:
        messages.success(
            request,
            _("You withdrew your consent: nothing more goes to %(recipient)s for this.")
            % {"recipient": purpose.recipient.name},
        )
    return redirect("sharing_account")


def centre_context(request: HttpRequest) -> dict[str, Any]:
    """The account overview's sharing card."""
    user = _user(request)
    choices = services.consent_choices(user)
    return {
        "granted": sum(1 for c in choices if c.is_granted),
        "asked": len(choices),
        "disclosures": services.visible_disclosures(user).count(),
    }


# --- Public transparency report ---------------------------------------------------------------


@require_GET
def transparency(request: HttpRequest) -> HttpResponse:
    return render(request, "sharing/transparency.html", {"periods": services.transparency_counts()})


# --- Staff: legal requests --------------------------------------------------------------------


def legal_staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not services.is_legal_staff(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _legal_request(pk: int) -> LegalRequest:
    return get_object_or_404(LegalRequest.objects.select_related("person"), pk=pk)


@legal_staff_required
@require_GET
def legal_list(request: HttpRequest) -> HttpResponse:
    requests = LegalRequest.objects.select_related("requested_by", "decided_by").defer(
        "document", "document_name"
    )[:500]
    return render(request, "sharing/legal_list.html", {"requests": requests})


@legal_staff_required
@require_http_methods(["GET", "POST"])
def legal_new(request: HttpRequest) -> HttpResponse:
    form = LegalRequestForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = services.find_person(data["person"])
        if person is None:
            form.add_error("person", _("No active account has this user name or e-mail address."))
        else:
            upload = data["document"]
            try:
                legal_request = services.record_legal_request(
                    person=person,
                    authority_name=data["authority_name"],
                    authority_type=data["authority_type"],
                    instrument=data["instrument"],
                    reference=data["reference"],
                    categories=data["categories"],
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                    document=services.Document(upload.name, upload.read()),
                    gag_review_date=data["order_review_date"],
                    staff=_user(request),
                    actor=Actor.from_request(request),
                )
            except InvalidLegalRequest as exc:
                form.add_error(None, str(_LEGAL_ERRORS.get(str(exc), str(exc))))
            else:
                messages.success(
                    request,
                    _("Recorded. A second staff member with the legal role must approve it."),
                )
                return redirect("sharing_legal_detail", pk=legal_request.pk)
    return render(request, "sharing/legal_new.html", {"form": form})


@legal_staff_required
@require_GET
def legal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    legal_request = _legal_request(pk)
    staff = _user(request)
    now = services._now()
    return render(
        request,
        "sharing/legal_detail.html",
        {
            "lr": legal_request,
            "is_requester": legal_request.requested_by_id == staff.pk,
            "approval_expired": legal_request.status == LegalRequest.Status.APPROVED
            and legal_request.approval_expires_at is not None
            and legal_request.approval_expires_at <= now,
            "disclosures": legal_request.disclosures.all(),
            "order_form": OrderForm(),
        },
    )


@legal_staff_required
@require_POST
def legal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    legal_request = _legal_request(pk)
    approve = request.POST.get("decision") == "approve"
    try:
        services.decide_legal_request(
            legal_request, approve=approve, staff=_user(request), actor=Actor.from_request(request)
        )
    except SelfApproval:
        messages.error(
            request,
            _("You recorded this request, so you cannot approve it: a second person must."),
        )
    except (WrongState, NotLegalStaff):
        messages.error(request, _("This request has been decided already."))
    else:
        messages.success(request, _("Approved.") if approve else _("Rejected."))
    return redirect("sharing_legal_detail", pk=pk)


@legal_staff_required
@require_POST
def legal_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.reapprove_expired(
            _legal_request(pk), staff=_user(request), actor=Actor.from_request(request)
        )
    except WrongState:
        messages.error(
            request, _("Only an approved request that was not released can be reopened.")
        )
    else:
        messages.success(request, _("Reopened: it waits for a new approval."))
    return redirect("sharing_legal_detail", pk=pk)


@legal_staff_required
@require_POST
def legal_release(request: HttpRequest, pk: int) -> HttpResponse:
    package = services.release_legal_request(
        _legal_request(pk), staff=_user(request), actor=Actor.from_request(request)
    )
    if isinstance(package.result, services.Refusal):
        messages.error(request, refusal_text(package.result.reason))
        return redirect("sharing_legal_detail", pk=pk)
    response = HttpResponse(package.archive, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{package.filename}"'
    return response


@legal_staff_required
@require_GET
def legal_document(request: HttpRequest, pk: int) -> HttpResponse:
    legal_request = _legal_request(pk)
    if not legal_request.document:
        raise Http404
    document = services.read_document(
        legal_request, staff=_user(request), actor=Actor.from_request(request)
    )
    response = HttpResponse(document.content, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="legal-request-{pk}-document"'
    return response


@legal_staff_required
@require_POST
def legal_order(request: HttpRequest, pk: int) -> HttpResponse:
    form = OrderForm(request.POST)
    lift = request.POST.get("lift") == "on"
    if not form.is_valid() or not (lift or form.cleaned_data["review_date"]):
        messages.error(request, _("Give a new review date, or lift the order."))
        return redirect("sharing_legal_detail", pk=pk)
    review_date = None if lift else form.cleaned_data["review_date"]
    try:
        services.change_order(
            _legal_request(pk),
            review_date=review_date,
            staff=_user(request),
            actor=Actor.from_request(request),
        )
    except InvalidLegalRequest:
        messages.error(request, _("The review date must be in the future."))
    else:
        messages.success(
            request,
            _("The order was lifted; the person can see the disclosure.")
            if review_date is None
            else _("The order now runs to its new review date."),
        )
    return redirect("sharing_legal_detail", pk=pk)


# The service's reasons (English, for logs and tests), in the reader's language.
_LEGAL_ERRORS: dict[str, Any] = {
    "choose at least one category": gettext_lazy("Choose at least one category."),
    "the period ends before it starts": gettext_lazy("The period ends before it starts."),
    "attach the request's document": gettext_lazy("Attach the request's document."),
    "the document is larger than the limit": gettext_lazy("The document is too large."),
    "a non-disclosure order's review date must be in the future": gettext_lazy(
        "A non-disclosure order's review date must be in the future."
    ),
}


def refusal_text(reason: Reason) -> str:
    """The gate's refusal, in the reader's language."""
    texts = {
        Reason.APPROVAL_MISSING: _(
            "Refused: this request needs the approval of a second staff member with the legal role."
        ),
        Reason.APPROVAL_EXPIRED: _(
            "Refused: the approval has expired. Reopen the request for a new approval."
        ),
        Reason.APPROVAL_FORGED: _(
            "Refused: the approval is not valid (the requester cannot approve, and the "
            "approval must match the request)."
        ),
        Reason.ALREADY_RELEASED: _("Refused: this request has been released already."),
        Reason.CATEGORY_UNAVAILABLE: _(
            "Refused: a category asked for is not held on this installation."
        ),
        Reason.UNKNOWN_PERSON: _("Refused: the person's account is no longer active."),
    }
    return texts.get(reason, _("Refused: %(reason)s") % {"reason": str(reason)})
