"""Access records and devices from Django's sign-in signals.

Connected in ``ActivityConfig.ready()``; the accounts app's own receivers (session
rows) and the audit log's run first, as their apps come first in INSTALLED_APPS.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from safehold.activity import services
from safehold.activity.models import AccessRecord

#: Set on the request at sign-in: the device cookie the response must carry.
DEVICE_TOKEN_ATTR = "_safehold_device_token"  # noqa: S105  # an attribute name, not a secret


@receiver(user_logged_in, dispatch_uid="safehold.activity.signed_in")
def _signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return  # a sign-in outside a web request (tests' force_login without a request)
    if not services.can_record(user):
        return  # an erased person: nothing more is recorded about them
    services.record_access(
        user,
        kind=AccessRecord.Kind.SIGN_IN,
        result=AccessRecord.Result.SUCCEEDED,
        request=request,
    )
    noted = services.note_sign_in(request, user)
    setattr(request, DEVICE_TOKEN_ATTR, noted.token)


def _account_named(login: str) -> Any:
    """The account a sign-in attempt names (user name or e-mail address), or None."""
    if not login:
        return None
    found = get_user_model().objects.filter(username__iexact=login).first()
    if found is None and "@" in login:
        from allauth.account.models import EmailAddress

        address = EmailAddress.objects.filter(email__iexact=login).select_related("user").first()
        found = address.user if address else None
    return found


@receiver(user_login_failed, dispatch_uid="safehold.activity.sign_in_failed")
def _sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """A failed sign-in is recorded for the account it names; an unknown login is not
    recorded here (there is nobody to show it to, and the login may be anyone's)."""
    login = str(credentials.get("username") or credentials.get("email") or "").strip()
    user = _account_named(login)
    if user is None:
        return
    services.record_access(
        user,
        kind=AccessRecord.Kind.SIGN_IN_FAILED,
        result=AccessRecord.Result.FAILED,
        request=request,
    )
