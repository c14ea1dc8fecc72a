"""Keep the signed-in session list in step with sign-in, sign-out and password changes."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import password_changed, password_reset
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest

from safehold.accounts import services


@receiver(user_logged_in, dispatch_uid="safehold.accounts.record_session")
def _on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        services.record_session(request, user)


@receiver(user_logged_out, dispatch_uid="safehold.accounts.forget_session")
def _on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        services.forget_session(request.session.session_key)


@receiver(password_changed, dispatch_uid="safehold.accounts.signout_on_password_change")
@receiver(password_reset, dispatch_uid="safehold.accounts.signout_on_password_reset")
def _on_password_change(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """A new password signs out every other browser: whoever knew the old one is out."""
    current = None
    if hasattr(request, "session") and request.user.is_authenticated and request.user.pk == user.pk:
        services.sync_session_key(request)  # Django gave this session a new key
        current = request.session.session_key
    services.sign_out_sessions(
        user, current_session_key=current, actor=user, request=request, reason="password-changed"
    )
