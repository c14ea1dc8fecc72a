"""Contact us, the person's messages, and the staff inbox: a few lines over the services."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from safehold.accounts.adapter import client_ip
from safehold.accounts.models import User
from safehold.audit.services import Actor
from safehold.feedback import services
from safehold.feedback.exceptions import NoAddress, NotAllowed, TooManyMessages
from safehold.feedback.forms import (
    AssignForm,
    ContactForm,
    InboxFilterForm,
    NoteForm,
    ReplyForm,
    StatusForm,
)
from safehold.feedback.models import ContactMessage

_SENT_SALT = "safehold.feedback.sent"
INBOX_PAGE_SIZE = 50
_SENT_MAX_AGE = 3600


def _wait_text(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    if minutes >= 60:
        hours = (minutes + 59) // 60
        return ngettext("about %(count)d hour", "about %(count)d hours", hours) % {"count": hours}
    return ngettext("about %(count)d minute", "about %(count)d minutes", minutes) % {
        "count": minutes
    }


@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    """Public: the contact form. Every refusal re-renders it with what was typed."""
    user = request.user if request.user.is_authenticated else None
    primary = (
        EmailAddress.objects.filter(user=user, primary=True).first() if user is not None else None
    )
    if request.method != "POST":
        initial = {}
        if request.GET.get("category"):
            initial["category"] = request.GET["category"]
        form = ContactForm(signed_in=user is not None, initial=initial)
        return _contact_page(request, form, primary)
    form = ContactForm(request.POST, signed_in=user is not None)
    try:
        services.check_ip_rate(client_ip(request))
    except TooManyMessages as exc:
        return _refused(request, form, primary, exc)
    if user is not None and primary is None:
        form.add_error(
            None, _("Your account has no e-mail address to answer: add one, then send again.")
        )
    if not form.is_valid():
        return _contact_page(request, form, primary)
    data = form.cleaned_data
    try:
        message = services.send_message(
            sender=user,
            email=primary.email if primary is not None else data["email"],
            name=data.get("name", ""),
            category=data["category"],
            body=data["body"],
            language=get_language() or "en",
            actor=Actor.from_request(request),
            account_url=request.build_absolute_uri(reverse("feedback_messages")),
            inbox_url=request.build_absolute_uri(reverse("feedback_inbox")),
        )
    except TooManyMessages as exc:
        return _refused(request, form, primary, exc)
    token = signing.dumps(message.reference, salt=_SENT_SALT)
    return redirect(f"{reverse('feedback_sent')}?{urlencode({'r': token})}")


def _contact_page(
    request: HttpRequest,
    form: ContactForm,
    primary: EmailAddress | None,
    *,
    rate_limited: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "feedback/contact.html",
        {
            "form": form,
            "primary_email": primary.email if primary else "",
            "rate_limited": rate_limited,
        },
        status=status,
    )


def _refused(
    request: HttpRequest, form: ContactForm, primary: EmailAddress | None, exc: TooManyMessages
) -> HttpResponse:
    form.is_valid()  # for the cleaned values and the field errors, if any
    if exc.per == "email":
        text = _(
            "Too many messages from this e-mail address. Your message is still here: "
            "please send it again in %(wait)s."
        )
    else:
        text = _(
            "Too many messages from your network. Your message is still here: "
            "please send it again in %(wait)s."
        )
    response = _contact_page(
        request,
        form,
        primary,
        rate_limited=text % {"wait": _wait_text(exc.retry_after)},
        status=429,
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


def sent(request: HttpRequest) -> HttpResponse:
    """Public: "thank you", with the reference (carried signed in the link, for an hour)."""
    try:
        reference = signing.loads(request.GET.get("r", ""), salt=_SENT_SALT, max_age=_SENT_MAX_AGE)
    except signing.BadSignature:
        return redirect("feedback_contact")
    return render(request, "feedback/sent.html", {"reference": reference})


@login_required
def my_messages(request: HttpRequest) -> HttpResponse:
    """The person's messages and the replies to them (never staff's internal notes)."""
    user: User = request.user  # type: ignore[assignment]  # login_required
    return render(
        request,
        "feedback/account_messages.html",
        {"contact_messages": services.messages_of(user), "nav": "messages"},
    )


def centre_context(request: HttpRequest) -> dict[str, Any]:
    """The account overview's card: how many messages, how many answered."""
    user = request.user
    if not user.is_authenticated:
        return {}
    rows = list(services.messages_of(user).values_list("first_answered_at", flat=True))
    return {
        "count": len(rows),
        "answered": sum(1 for r in rows if r is not None),
        "can_view_inbox": services.can_view_inbox(user),
    }


# --- The staff inbox ----------------------------------------------------------------------


def staff_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in staff with ``feedback.view_inbox`` only: others get 403, visitors sign in."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not services.can_view_inbox(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@staff_view
def inbox(request: HttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET or None)
    selection = services.InboxFilter()
    if form.is_bound and form.is_valid():
        selection = services.InboxFilter(
            status=form.cleaned_data["status"] or "",
            older_than=form.cleaned_data["older_than"],
            mine=form.cleaned_data["mine"],
        )
    elif not form.is_bound:
        form = InboxFilterForm(initial={"status": "open"})
    now = timezone.now()
    page = Paginator(services.inbox(request.user, selection), INBOX_PAGE_SIZE).get_page(  # type: ignore[arg-type]  # staff_view
        request.GET.get("page")
    )
    rows = [{"message": m, "open_seconds": m.open_for(now)} for m in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "feedback/staff/inbox.html",
        {"form": form, "rows": rows, "now": now, "page": page, "query": query.urlencode()},
    )


def _message_or_404(reference: str, request: HttpRequest) -> ContactMessage:
    try:
        return services.read_message(reference, staff=request.user, request=request)  # type: ignore[arg-type]  # staff_view
    except ContactMessage.DoesNotExist:
        raise Http404 from None


@staff_view
def message_detail(request: HttpRequest, reference: str) -> HttpResponse:
    """One message, opened: recorded in the audit log as a read of personal data."""
    message = _message_or_404(reference, request)
    return _detail_page(request, message)


def _detail_page(
    request: HttpRequest, message: ContactMessage, *, status: int = 200, **forms: Any
) -> HttpResponse:
    choices = [(str(u.pk), u.username) for u in services.staff_who_can_answer()]
    context = {
        "message": message,
        "replies": list(message.replies.select_related("author")),
        "notes": list(message.notes.select_related("author")),
        "open_seconds": message.open_for(timezone.now()),
        "can_reply": request.user.has_perm(services.REPLY_PERMISSION),
        "reply_form": forms.get("reply_form") or ReplyForm(),
        "note_form": forms.get("note_form") or NoteForm(),
        "status_form": StatusForm(initial={"status": message.status}),
        "assign_form": AssignForm(
            initial={"assignee": message.assigned_to_id or ""}, choices=choices
        ),
    }
    return render(request, "feedback/staff/message.html", context, status=status)


@staff_view
@require_POST
def message_action(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    """Reply, note, status or assign; a bad form re-renders the message with the text kept."""
    staff: User = request.user  # type: ignore[assignment]  # staff_view
    if not staff.has_perm(services.REPLY_PERMISSION):
        raise PermissionDenied
    try:
        message = ContactMessage.objects.select_related("sender", "assigned_to").get(
            reference=reference
        )
    except ContactMessage.DoesNotExist:
        raise Http404 from None
    try:
        if action == "reply":
            form = ReplyForm(request.POST)
            if not form.is_valid():
                return _reopen(request, reference, reply_form=form)
            try:
                services.reply(
                    message,
                    body=form.cleaned_data["body"],
                    staff=staff,
                    request=request,
                    account_url=request.build_absolute_uri(reverse("feedback_messages")),
                )
            except NoAddress:
                form.add_error(None, _("This message has no e-mail address any more (erased)."))
                return _reopen(request, reference, reply_form=form)
            messages.success(request, _("Your reply has been sent."))
        elif action == "note":
            note_form = NoteForm(request.POST)
            if not note_form.is_valid():
                return _reopen(request, reference, note_form=note_form)
            services.add_note(
                message, body=note_form.cleaned_data["body"], staff=staff, request=request
            )
            messages.success(request, _("Your note has been added."))
        elif action == "status":
            status_form = StatusForm(request.POST)
            if status_form.is_valid():
                services.change_status(
                    message, status=status_form.cleaned_data["status"], staff=staff, request=request
                )
                messages.success(request, _("The status has been changed."))
            else:
                messages.error(request, _("Choose one of the statuses listed."))
        elif action == "assign":
            choices = [(str(u.pk), u.username) for u in services.staff_who_can_answer()]
            assign_form = AssignForm(request.POST, choices=choices)
            if assign_form.is_valid():
                pk = assign_form.cleaned_data["assignee"]
                services.assign(
                    message,
                    to=User.objects.get(pk=pk) if pk else None,
                    staff=staff,
                    request=request,
                )
                messages.success(request, _("The message has been assigned."))
            else:
                messages.error(request, _("Choose one of the staff members listed."))
        else:
            raise Http404
    except NotAllowed:
        raise PermissionDenied from None
    return redirect("feedback_staff_message", reference=reference)


def _reopen(request: HttpRequest, reference: str, **forms: Any) -> HttpResponse:
    message = _message_or_404(reference, request)
    return _detail_page(request, message, **forms)
