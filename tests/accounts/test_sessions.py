from __future__ import annotations

import pytest
from django.test import Client

from safehold.accounts.models import SignedInSession, User
from tests.conftest import TEST_PASSWORD

FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def _sign_in(username: str, ua: str, ip: str) -> Client:
    client = Client(HTTP_USER_AGENT=ua, REMOTE_ADDR=ip)
    response = client.post("/accounts/login/", {"login": username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    return client


@pytest.mark.django_db
def test_sessions_list_browser_os_place_and_sign_out_another(alice: User) -> None:
    laptop = _sign_in("alice", FIREFOX_LINUX, "114.114.114.114")
    phone = _sign_in("alice", SAFARI_IPHONE, "8.8.8.8")
    page = laptop.get("/account/sessions/").content.decode()
    assert "Firefox 128" in page
    assert "Linux" in page
    assert "Mobile Safari" in page
    assert "iOS 17" in page
    assert "China" in page
    assert "United States" in page

    (other,) = [
        s
        for s in SignedInSession.objects.filter(user=alice)
        if s.browser.startswith("Mobile Safari")
    ]
    response = laptop.post("/account/sessions/sign-out/", {"session": other.pk})
    assert response.status_code == 302
    assert phone.get("/account/").status_code == 302  # the phone is signed out
    assert laptop.get("/account/").status_code == 200  # this browser is not
    assert [s.browser for s in SignedInSession.objects.filter(user=alice)] == ["Firefox 128"]


@pytest.mark.django_db
def test_sign_out_all_others_keeps_this_one(alice: User) -> None:
    clients = [_sign_in("alice", FIREFOX_LINUX, f"10.0.0.{n}") for n in range(1, 4)]
    clients[0].post("/account/sessions/sign-out/", {})
    assert clients[0].get("/account/").status_code == 200
    assert [c.get("/account/").status_code for c in clients[1:]] == [302, 302]
    assert SignedInSession.objects.filter(user=alice).count() == 1


@pytest.mark.django_db
def test_cannot_sign_out_another_persons_session_by_id(make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    make_user("bob")
    alice = _sign_in("alice", FIREFOX_LINUX, "10.0.0.1")
    bob = _sign_in("bob", FIREFOX_LINUX, "10.0.0.2")
    bobs = SignedInSession.objects.get(user__username="bob")
    response = alice.post("/account/sessions/sign-out/", {"session": bobs.pk}, follow=True)
    assert "could not be found" in response.content.decode()
    assert bob.get("/account/").status_code == 200
    assert "10.0.0.2" not in alice.get("/account/sessions/").content.decode()


@pytest.mark.django_db
def test_signing_out_removes_the_row(alice: User) -> None:
    client = _sign_in("alice", FIREFOX_LINUX, "10.0.0.1")
    assert SignedInSession.objects.filter(user=alice).count() == 1
    client.post("/accounts/logout/")
    assert SignedInSession.objects.filter(user=alice).count() == 0


@pytest.mark.django_db
def test_password_change_signs_out_every_other_browser(alice: User) -> None:
    here = _sign_in("alice", FIREFOX_LINUX, "10.0.0.1")
    there = _sign_in("alice", SAFARI_IPHONE, "10.0.0.2")
    response = here.post(
        "/accounts/password/change/",
        {
            "oldpassword": TEST_PASSWORD,
            "password1": "Brand-new-secret-phrase-5",
            "password2": "Brand-new-secret-phrase-5",
        },
    )
    assert response.status_code == 302
    assert here.get("/account/").status_code == 200
    assert there.get("/account/").status_code == 302
    assert SignedInSession.objects.filter(user=alice).count() == 1


@pytest.mark.django_db
def test_places_are_shown_in_the_readers_language(alice: User) -> None:
    client = _sign_in("alice", FIREFOX_LINUX, "114.114.114.114")
    assert SignedInSession.objects.get(user=alice).place == "CN"
    page = client.get("/account/sessions/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "中国" in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "China" in client.get("/account/sessions/").content.decode()


def test_locator_codes() -> None:
    from safehold.accounts.geo import LOCAL, get_geolocator

    locator = get_geolocator()
    assert locator.locate("8.8.8.8") == "US"
    assert locator.locate("192.168.1.10") == LOCAL
    assert locator.locate("not an ip") == ""
