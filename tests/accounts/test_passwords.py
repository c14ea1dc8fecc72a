"""The production password hasher and rules."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from safehold import settings as production
from safehold.accounts.models import User


@pytest.mark.django_db
def test_stored_hash_is_argon2id_with_at_least_owasp_parameters(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    user = User.objects.create_user("dora", "dora@example.test", "Tall-grass-under-snow-4")
    stored = User.objects.get(pk=user.pk).password
    algorithm, variety, version, params, _salt, _hash = stored.split("$")
    assert (algorithm, variety, version) == ("argon2", "argon2id", "v=19")
    values = dict(part.split("=") for part in params.split(","))
    assert int(values["m"]) >= 19 * 1024  # KiB
    assert int(values["t"]) >= 2
    assert int(values["p"]) >= 1
    assert User.objects.get(pk=user.pk).check_password("Tall-grass-under-snow-4")


def test_argon2_is_first_in_production() -> None:
    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert make_password("x", hasher="argon2").startswith("argon2$argon2id$")


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("nine-char", "password_too_short"),
        ("1234567890123", "password_entirely_numeric"),
        ("iloveyou12", "password_too_common"),
        ("x" * 1025, "password_too_long"),
    ],
)
def test_weak_passwords_are_refused(password: str, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_password(password, User(username="erin"))
    assert code in [error.code for error in caught.value.error_list]


def test_long_passwords_up_to_1024_are_accepted() -> None:
    validate_password("Wq7-" + "k" * 60, User(username="erin"))  # 64
    validate_password(
        "a Very long but memorable sentence about 9 ducks! " * 20, User(username="erin")
    )
