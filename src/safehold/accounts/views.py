"""The account centre: a few lines over the services."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from safehold.accounts import services
from safehold.accounts.exceptions import HintRevealsPassword, TooManyAttempts, WrongPassword
from safehold.accounts.forms import (
    HintRequestForm,
    PasswordHintForm,
    ProfileForm,
    SignOutSessionForm,
    display_phone,
)
from safehold.accounts.models import User


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # login_required guarantees our user


def _centre_sections(request: HttpRequest) -> list[dict[str, object]]:
    """The feature apps' sections of the overview page, each with its own context."""
    from safehold.core import registry

    return [
        {"name": section.name, "template": section.template, "context": section.context(request)}
        for section in registry.centre_sections()
    ]


@login_required
def account_centre(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    authenticators = set(Authenticator.objects.filter(user=user).values_list("type", flat=True))
    return render(
        request,
        "accounts/centre.html",
        {
            "phone_display": display_phone(user.phone),
            "email_addresses": user.emailaddress_set.all(),  # type: ignore[attr-defined]  # allauth's reverse relation
            "has_totp": Authenticator.Type.TOTP in authenticators,
            "has_webauthn": Authenticator.Type.WEBAUTHN in authenticators,
            "has_recovery_codes": Authenticator.Type.RECOVERY_CODES in authenticators,
            "session_count": len(services.list_sessions(user)),
            "sections": _centre_sections(request),
            "nav": "overview",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def edit_profile(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            services.update_profile(user, actor=user, request=request, **form.cleaned_data)
            messages.success(request, _("Your profile has been saved."))
            return redirect("account_centre")
    else:
        form = ProfileForm(
            initial={
                "name": user.name,
                "mailing_address": user.mailing_address,
                "phone": display_phone(user.phone),
            }
        )
    return render(request, "accounts/profile_form.html", {"form": form, "nav": "profile"})


@login_required
@require_http_methods(["GET", "POST"])
def password_hint(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = PasswordHintForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_password_hint(
                user,
                hint=form.cleaned_data["hint"],
                current_password=form.cleaned_data["current_password"],
                actor=user,
                request=request,
            )
        except WrongPassword:
            form.add_error("current_password", _("This is not your current password."))
        except TooManyAttempts:
            form.add_error(None, _("Too many attempts. Wait a minute and try again."))
        except HintRevealsPassword:
            form.add_error(
                "hint",
                _(
                    "This hint gives your password away: it contains it or is too close to it. "
                    "Write something only you would understand."
                ),
            )
        else:
            if user.password_hint:
                messages.success(request, _("Your password hint has been saved."))
            else:
                messages.success(request, _("Your password hint has been removed."))
            return redirect("account_centre")
    return render(
        request,
        "accounts/password_hint_form.html",
        {"form": form, "has_hint": user.has_password_hint, "nav": "hint"},
    )


@require_http_methods(["GET", "POST"])
def request_password_hint(request: HttpRequest) -> HttpResponse:
    """Public: "E-mail me my password hint".

    The answer is the same whether or not an account exists.
    """
    form = HintRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not services.send_password_hint(request, form.cleaned_data["login"]):
            return render(
                request,
                "accounts/password_hint_request.html",
                {"form": form, "rate_limited": True},
                status=429,
            )
        return redirect("account_password_hint_sent")
    return render(request, "accounts/password_hint_request.html", {"form": form})


def password_hint_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/password_hint_sent.html")


@login_required
def sessions(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    rows = services.list_sessions(user)
    current = request.session.session_key
    return render(
        request,
        "accounts/sessions.html",
        {
            "sessions": rows,
            "current_key": current,
            "others": [r for r in rows if r.session_key != current],
            "nav": "sessions",
        },
    )


@login_required
@require_POST
def sign_out_sessions(request: HttpRequest) -> HttpResponse:
    from allauth.core import ratelimit

    user = _user(request)
    form = SignOutSessionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("That session could not be found."))
        return redirect("account_sessions")
    if not ratelimit.consume(request, action="revoke_sessions", user=user):
        messages.error(request, _("Too many requests. Wait a minute and try again."))
        return redirect("account_sessions")
    count = services.sign_out_sessions(
        user,
        current_session_key=request.session.session_key,
        session_id=form.cleaned_data["session"],
        actor=user,
        request=request,
    )
    if form.cleaned_data["session"] and count == 0:
        messages.error(request, _("That session could not be found. It may have ended already."))
    else:
        messages.success(
            request,
            ngettext(
                "Signed out of %(count)d other session.",
                "Signed out of %(count)d other sessions.",
                count,
            )
            % {"count": count},
        )
    return redirect("account_sessions")


@login_required
def data_access(request: HttpRequest) -> HttpResponse:
    """ "Who accessed my data and why": the audit events about this person, with proofs."""
    user = _user(request)
    entries, checkpoint = services.access_history(user)
    return render(
        request,
        "accounts/data_access.html",
        {
            "entries": entries,
            "checkpoint": checkpoint if entries else None,
            "nav": "access",
            "public_key": services.audit_public_key(),
        },
    )
