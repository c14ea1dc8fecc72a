"""Sign-up, e-mail verification through a real SMTP server, and sign-in by name or e-mail."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from safehold.accounts.models import User
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _signup(client: Client, **overrides: str):  # type: ignore[no-untyped-def]
    data = {
        "username": "carol",
        "email": "carol@example.test",
        "password1": TEST_PASSWORD,
        "password2": TEST_PASSWORD,
    }
    data.update(overrides)
    return client.post("/accounts/signup/", data)


def test_sign_up_verify_by_mailed_link_then_sign_in_by_name_and_by_email(
    client: Client, smtp_sink
) -> None:  # type: ignore[no-untyped-def]
    response = _signup(client)
    assert response.status_code == 302
    user = User.objects.get(username="carol")
    assert user.password.startswith("md5$")  # the test hasher; production is argon2id
    assert not EmailAddress.objects.get(user=user).verified

    (message,) = smtp_sink.to("carol@example.test")
    body = smtp_sink.body(message)
    assert "SMM" in message["Subject"]
    link = re.search(r"http://testserver(/accounts/confirm-email/[^\s]+)", body)
    assert link, body
    # The link shows a confirmation page; confirming is a POST (mail scanners only GET).
    page = client.get(link.group(1))
    assert page.status_code == 200
    assert client.post(link.group(1)).status_code == 302
    assert EmailAddress.objects.get(user=user).verified

    client.logout()
    assert (
        client.post("/accounts/login/", {"login": "carol", "password": TEST_PASSWORD}).status_code
        == 302
    )
    assert client.get("/account/").status_code == 200
    client.logout()
    response = client.post(
        "/accounts/login/", {"login": "CAROL@example.test", "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/account/").context["user"] == user


def test_unverified_account_cannot_get_in(client: Client, smtp_sink) -> None:  # type: ignore[no-untyped-def]
    _signup(client)
    client.logout()
    response = client.post("/accounts/login/", {"login": "carol", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert client.get("/account/").status_code == 302  # still signed out, asked to verify


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", "valid email"),
        ({"username": "u" * 151}, "username", "at most 150"),
        ({"username": "bad name!"}, "username", "Enter a valid username"),
        ({"password1": "short1", "password2": "short1"}, "password1", "too short"),
        ({"password1": "password1234", "password2": "password1234"}, "password1", "too common"),
        ({"password2": "something-else-entirely"}, "password2", "same password"),
    ],
)
def test_bad_sign_up_input_gets_a_clear_message_and_saves_nothing(
    client: Client, overrides, field, message
) -> None:  # type: ignore[no-untyped-def]
    response = _signup(client, **overrides)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message in errors
    assert not User.objects.exists()
    assert not EmailAddress.objects.exists()


def test_taken_user_name_is_refused(client: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("carol", email="first@example.test")
    response = _signup(client, email="second@example.test")
    assert response.status_code == 200
    assert "already" in " ".join(response.context["form"].errors["username"])
    assert User.objects.count() == 1


def test_long_passphrase_is_accepted(client: Client, smtp_sink) -> None:  # type: ignore[no-untyped-def]
    passphrase = "correct horse battery staple " * 4  # 116 characters
    response = _signup(client, password1=passphrase, password2=passphrase)
    assert response.status_code == 302
    assert User.objects.get(username="carol").check_password(passphrase)


def test_admin_login_goes_through_allauth_sign_in(client: Client) -> None:
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_staff_reaches_admin_after_sign_in(client: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("root", is_staff=True, is_superuser=True)
    client.post("/accounts/login/", {"login": "root", "password": TEST_PASSWORD})
    assert client.get("/admin/").status_code == 200


def test_non_staff_is_refused_the_admin(alice_client: Client) -> None:
    response = alice_client.get("/admin/login/")
    assert response.status_code == 403
