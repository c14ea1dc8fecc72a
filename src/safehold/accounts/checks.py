"""The accounts' promise checks (registered by the policy app, which owns the promise map)."""

from __future__ import annotations

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
