"""Security events from Django, allauth and the vault, recorded in the audit log.

State changes of Safehold's own services record their events themselves (in the same
transaction); these receivers cover what libraries do: sign-up, sign-in and sign-out,
e-mail addresses, passwords, second factors, and the vault's key operations. Web
requests that change state run in one transaction (``AtomicWritesMiddleware``), so an
event commits with its change.
"""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from safehold.audit.events import EventType
from safehold.audit.services import Actor, record_event
from safehold.vault import signals as vault_signals


def _actor(request: Any, user: Any = None) -> Actor:
    actor = Actor.from_request(request)
    if user is not None and not actor.id:  # the request's user is not set yet (sign-up, sign-in)
        from safehold.audit.events import ActorKind

        kind = ActorKind.STAFF if user.is_staff else ActorKind.PERSON
        actor = Actor(kind, str(user.pk), actor.ip, actor.request_id)
    return actor


@receiver(account_signals.user_signed_up, dispatch_uid="audit.signed_up")
def _signed_up(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record_event(EventType.SIGNED_UP, actor=_actor(request, user), subject=user)


@receiver(account_signals.email_confirmed, dispatch_uid="audit.email_confirmed")
def _email_confirmed(sender: Any, request: Any, email_address: Any, **kwargs: Any) -> None:
    user = email_address.user
    record_event(EventType.EMAIL_VERIFIED, actor=_actor(request, user), subject=user)


@receiver(account_signals.email_added, dispatch_uid="audit.email_added")
def _email_added(sender: Any, request: Any, user: Any, email_address: Any, **kwargs: Any) -> None:
    record_event(EventType.EMAIL_ADDED, actor=_actor(request, user), subject=user)


@receiver(account_signals.email_removed, dispatch_uid="audit.email_removed")
def _email_removed(sender: Any, request: Any, user: Any, email_address: Any, **kwargs: Any) -> None:
    record_event(EventType.EMAIL_REMOVED, actor=_actor(request, user), subject=user)


@receiver(account_signals.email_changed, dispatch_uid="audit.email_changed")
def _email_changed(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record_event(EventType.EMAIL_PRIMARY_CHANGED, actor=_actor(request, user), subject=user)


@receiver(user_logged_in, dispatch_uid="audit.signed_in")
def _signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record_event(EventType.SIGN_IN_SUCCEEDED, actor=_actor(request, user), subject=user)


@receiver(user_login_failed, dispatch_uid="audit.sign_in_failed")
def _sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    """The login is not recorded (it may be an e-mail address); the account it names is."""
    login = str(credentials.get("username") or credentials.get("email") or "").strip()
    subject = None
    if login:
        users = get_user_model().objects
        subject = users.filter(username__iexact=login).first()
        if subject is None and "@" in login:
            from allauth.account.models import EmailAddress

            address = (
                EmailAddress.objects.filter(email__iexact=login).select_related("user").first()
            )
            subject = address.user if address else None
    record_event(
        EventType.SIGN_IN_FAILED,
        actor=Actor.from_request(request),
        subject=subject,
        detail={"account_exists": subject is not None},
    )


@receiver(user_logged_out, dispatch_uid="audit.signed_out")
def _signed_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record_event(EventType.SIGNED_OUT, actor=_actor(request, user), subject=user)


@receiver(account_signals.password_changed, dispatch_uid="audit.password_changed")
def _password_changed(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record_event(EventType.PASSWORD_CHANGED, actor=_actor(request, user), subject=user)


@receiver(account_signals.password_reset, dispatch_uid="audit.password_reset")
def _password_reset(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record_event(EventType.PASSWORD_RESET, actor=_actor(request, user), subject=user)


@receiver(mfa_signals.authenticator_added, dispatch_uid="audit.mfa_added")
def _mfa_added(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    record_event(
        EventType.MFA_ADDED,
        actor=_actor(request, user),
        subject=user,
        detail={"type": str(authenticator.type)},
    )


@receiver(mfa_signals.authenticator_removed, dispatch_uid="audit.mfa_removed")
def _mfa_removed(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    record_event(
        EventType.MFA_REMOVED,
        actor=_actor(request, user),
        subject=user,
        detail={"type": str(authenticator.type)},
    )


@receiver(mfa_signals.authenticator_reset, dispatch_uid="audit.mfa_reset")
def _mfa_reset(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    record_event(
        EventType.MFA_RECOVERY_CODES_RESET,
        actor=_actor(request, user),
        subject=user,
        detail={"type": str(authenticator.type)},
    )


@receiver(vault_signals.keys_rotated, dispatch_uid="audit.keys_rotated")
def _keys_rotated(sender: Any, version: int, rewrapped: int, resumed: bool, **kwargs: Any) -> None:
    record_event(
        EventType.KEYS_ROTATED,
        actor=Actor.system(),
        detail={"kek_version": version, "rewrapped": rewrapped, "resumed": resumed},
    )


@receiver(vault_signals.data_key_shredded, dispatch_uid="audit.key_shredded")
def _key_shredded(sender: Any, key_id: str, **kwargs: Any) -> None:
    record_event(EventType.KEY_SHREDDED, actor=Actor.system(), detail={"data_key": key_id})
