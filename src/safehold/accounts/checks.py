"""The accounts' promise checks (registered by the policy app, which owns the promise map)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.utils.translation import gettext_lazy as _

from safehold.core.promises import Result, Status

ARGON2_HASHER = "django.contrib.auth.hashers.Argon2PasswordHasher"
ARGON2ID_PREFIX = "argon2$argon2id$"


def check_passwords_argon2id() -> Result:
    """New passwords are hashed with argon2id (the first hasher), and every stored
    password is an argon2id hash or unusable (no password). An older hash is upgraded
    at its owner's next sign-in; until then it is reported here."""
    from safehold.accounts.models import User

    if not settings.PASSWORD_HASHERS or settings.PASSWORD_HASHERS[0] != ARGON2_HASHER:
        return Result(Status.BROKEN, "the first password hasher is not argon2id")
    stored = User.objects.exclude(password__startswith=UNUSABLE_PASSWORD_PREFIX).exclude(
        password=""
    )
    other = stored.exclude(password__startswith=ARGON2ID_PREFIX).count()
    if other:
        return Result(
            Status.BROKEN,
            _("%(count)d stored passwords are not argon2id hashes.") % {"count": other},
        )
    return Result(
        Status.HOLDS,
        _("%(count)d stored passwords, all argon2id.") % {"count": stored.count()},
    )


MIN_PASSWORD_LENGTH = 10
_LENGTH = "django.contrib.auth.password_validation.MinimumLengthValidator"
_COMMON = "django.contrib.auth.password_validation.CommonPasswordValidator"


def check_password_protection() -> Result:
    """What the statement promises to help people keep their password to themselves:
    short and common passwords are refused, and a second factor is on offer."""
    configured: list[dict[str, Any]] = settings.AUTH_PASSWORD_VALIDATORS  # type: ignore[assignment]  # a list of dicts in settings.py
    validators = {v["NAME"]: v.get("OPTIONS", {}) for v in configured}
    length = validators.get(_LENGTH, {}).get("min_length", 8) if _LENGTH in validators else 0
    if length < MIN_PASSWORD_LENGTH:
        return Result(Status.BROKEN, f"passwords shorter than {MIN_PASSWORD_LENGTH} are accepted")
    if _COMMON not in validators:
        return Result(Status.BROKEN, "common passwords are not refused")
    factors = set(getattr(settings, "MFA_SUPPORTED_TYPES", []))
    if not factors & {"totp", "webauthn"}:
        return Result(Status.BROKEN, "no second factor is offered")
    return Result(
        Status.HOLDS,
        _("Passwords need at least %(length)d characters and must not be common; "
          "second factors offered: %(factors)s.")
        % {"length": length, "factors": ", ".join(sorted(factors))},
    )  # fmt: skip
