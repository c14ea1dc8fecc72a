"""Staff see personal data masked; revealing a field is deliberate, permissioned and purposeful."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from safehold.accounts.models import User
from tests.conftest import TEST_PASSWORD


@pytest.fixture
def person(make_user) -> User:  # type: ignore[no-untyped-def]
    return make_user(
        "jane",
        email="jane@example.com",
        name="Jane Doe",
        phone="+8613812341234",
        mailing_address="12 Quiet Street",
    )


def _staff(make_user, *, can_reveal: bool) -> Client:  # type: ignore[no-untyped-def]
    staff = make_user("clerk", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    if can_reveal:
        staff.user_permissions.add(Permission.objects.get(codename="reveal_personal_data"))
    client = Client()
    assert (
        client.post("/accounts/login/", {"login": "clerk", "password": TEST_PASSWORD}).status_code
        == 302
    )
    return client


def test_staff_screens_show_personal_fields_masked(make_user, person: User) -> None:  # type: ignore[no-untyped-def]
    client = _staff(make_user, can_reveal=False)
    for path in ["/admin/accounts/user/", f"/admin/accounts/user/{person.pk}/change/"]:
        page = client.get(path).content.decode()
        assert "j***@e***.com" in page
        for secret in (
            "Jane Doe",
            "jane@example.com",
            "12 Quiet Street",
            "+8613812341234",
            "1234 1234",
        ):
            assert secret not in page, (path, secret)
    change = client.get(f"/admin/accounts/user/{person.pk}/change/").content.decode()
    assert "+86 *** **** 1234" in change
    assert "J*** D**" in change


def test_reveal_needs_the_permission(make_user, person: User) -> None:  # type: ignore[no-untyped-def]
    client = _staff(make_user, can_reveal=False)
    response = client.post(f"/admin/accounts/user/{person.pk}/reveal/name/", {"purpose": "support"})
    assert response.status_code == 403
    assert b"Jane Doe" not in response.content


def test_reveal_needs_a_purpose_and_then_shows_the_value(make_user, person: User) -> None:  # type: ignore[no-untyped-def]
    client = _staff(make_user, can_reveal=True)
    url = f"/admin/accounts/user/{person.pk}/reveal/phone/"
    assert b"+86 138 1234 1234" not in client.get(url).content
    refused = client.post(url, {"purpose": "other", "explanation": " "})
    assert b"+86 138 1234 1234" not in refused.content
    assert b"Say why" in refused.content
    shown = client.post(url, {"purpose": "support"})
    assert b"+86 138 1234 1234" in shown.content
    assert "no-store" in shown["Cache-Control"]


def test_unknown_field_cannot_be_revealed(make_user, person: User) -> None:  # type: ignore[no-untyped-def]
    client = _staff(make_user, can_reveal=True)
    response = client.post(
        f"/admin/accounts/user/{person.pk}/reveal/password_hint/", {"purpose": "support"}
    )
    assert response.status_code == 403


def test_a_person_who_is_not_staff_cannot_reveal(alice_client: Client, person: User) -> None:
    response = alice_client.post(
        f"/admin/accounts/user/{person.pk}/reveal/name/", {"purpose": "support"}
    )
    assert response.status_code in (302, 403)
    assert b"Jane Doe" not in response.content


def test_staff_find_a_person_by_phone_through_the_blind_index(make_user, person: User) -> None:  # type: ignore[no-untyped-def]
    client = _staff(make_user, can_reveal=False)
    page = client.get("/admin/accounts/user/", {"q": "+86 138 1234 1234"}).content.decode()
    assert "jane" in page
    page = client.get("/admin/accounts/user/", {"q": "+86 138 1234 9999"}).content.decode()
    assert ">jane<" not in page


def test_allauth_email_admin_is_gone_and_email_search_needs_the_whole_address(
    make_user, person: User
) -> None:  # type: ignore[no-untyped-def]
    client = _staff(make_user, can_reveal=False)
    listing = client.get("/admin/account/emailaddress/")
    assert listing.status_code in (403, 404)
    assert b"jane@example.com" not in listing.content
    assert ">jane<" not in client.get("/admin/accounts/user/", {"q": "jane@exa"}).content.decode()
    assert (
        ">jane<" in client.get("/admin/accounts/user/", {"q": "jane@example.com"}).content.decode()
    )
