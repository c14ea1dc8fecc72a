"""Signing in during the grace period cancels the person's erasure, and says so."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.translation import gettext as _

from safehold.audit.services import Actor
from safehold.rights import services


@receiver(user_logged_in, dispatch_uid="safehold.rights.cancel_erasure_on_sign_in")
def _on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    cancelled = services.cancel_erasure(user, actor=Actor.from_request(request))
    if cancelled is not None and request is not None:
        messages.warning(
            request,
            _(
                "You signed in, so your account will not be deleted: the deletion you asked "
                "for has been cancelled. To delete your account, ask again."
            ),
        )
