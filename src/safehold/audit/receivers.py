"""Security events from Django, allauth and the vault, recorded in the audit log.

State changes of Safehold's own services record their events themselves (in the same
transaction); these receivers cover what libraries do: sign-up, sign-in and sign-out,
e-mail addresses, passwords, second factors, and the vault's key operations. Web
requests that change state run in one transaction (``AtomicWritesMiddleware``), so an
event commits with its change.
"""

from __future__ import annotations

from collections.abc import Callable
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


# Signals sent with (request, user): each records one event about that user; the
# second-factor ones say which kind of authenticator.
_ABOUT_THE_USER = (
    (account_signals.user_signed_up, EventType.SIGNED_UP),
    (account_signals.email_added, EventType.EMAIL_ADDED),
    (account_signals.email_removed, EventType.EMAIL_REMOVED),
    (account_signals.email_changed, EventType.EMAIL_PRIMARY_CHANGED),
    (account_signals.password_changed, EventType.PASSWORD_CHANGED),
    (account_signals.password_reset, EventType.PASSWORD_RESET),
    (mfa_signals.authenticator_added, EventType.MFA_ADDED),
    (mfa_signals.authenticator_removed, EventType.MFA_REMOVED),
    (mfa_signals.authenticator_reset, EventType.MFA_RECOVERY_CODES_RESET),
)


def _recorder(event_type: EventType) -> Callable[..., None]:
    def receive(
        sender: Any, request: Any, user: Any, authenticator: Any = None, **kwargs: Any
    ) -> None:
        detail = {"type": str(authenticator.type)} if authenticator is not None else None
        record_event(event_type, actor=_actor(request, user), subject=user, detail=detail)

    return receive


for _signal, _event_type in _ABOUT_THE_USER:
    _signal.connect(_recorder(_event_type), weak=False, dispatch_uid=f"audit.{_event_type}")


@receiver(account_signals.email_confirmed, dispatch_uid="audit.email_confirmed")
def _email_confirmed(sender: Any, request: Any, email_address: Any, **kwargs: Any) -> None:
    user = email_address.user
    record_event(EventType.EMAIL_VERIFIED, actor=_actor(request, user), subject=user)


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
