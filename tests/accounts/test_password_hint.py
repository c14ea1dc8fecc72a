from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from safehold.accounts.models import User
from safehold.accounts.validators import hint_reveals_password
from tests.conftest import TEST_PASSWORD

HINT = "the shape of the bay where we met"


@pytest.mark.parametrize(
    "hint",
    [
        "a-Long-and-unusual-passphrase-93",  # the password itself
        "it is A-LONG-AND-UNUSUAL-PASSPHRASE-93!!",  # inside, other case
        "39-esarhpssap-lausunu-dna-gnol-a",  # backwards
        "a long and unusual passphrase",  # most of it
        "@-L0ng-@nd-unu5u@l-p@55phr@5e",  # look-alike characters
    ],
)
def test_hints_that_give_the_password_away_are_detected(hint: str) -> None:
    assert hint_reveals_password(hint, TEST_PASSWORD)


@pytest.mark.parametrize("hint", [HINT, "favourite bird", "93", "long"])
def test_harmless_hints_pass(hint: str) -> None:
    assert not hint_reveals_password(hint, TEST_PASSWORD)


@pytest.fixture
def ask(client: Client, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """POST "E-mail me my hint"; the mail goes once the request's transaction commits."""

    def post(login: str):  # type: ignore[no-untyped-def]
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/account/password-hint/send/", {"login": login})

    return post


def _set_hint(client: Client, hint: str, password: str = TEST_PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/account/password-hint/", {"hint": hint, "current_password": password})


def test_set_hint_is_stored_and_never_shown_on_any_page(
    alice_client: Client, alice: User, make_user
) -> None:  # type: ignore[no-untyped-def]
    assert _set_hint(alice_client, HINT).status_code == 302
    alice.refresh_from_db()
    assert alice.password_hint == HINT
    for path in ["/account/", "/account/password-hint/", "/account/profile/", "/account/sessions/"]:
        assert HINT not in alice_client.get(path).content.decode(), path
    make_user("root", is_staff=True, is_superuser=True)
    staff = Client()
    staff.post("/accounts/login/", {"login": "root", "password": TEST_PASSWORD})
    for path in [f"/admin/accounts/user/{alice.pk}/change/", "/admin/accounts/user/"]:
        page = staff.get(path)
        assert page.status_code == 200
        assert HINT not in page.content.decode(), path


def test_hint_that_reveals_password_is_refused(alice_client: Client, alice: User) -> None:
    response = _set_hint(alice_client, "my password is a-long-and-unusual-passphrase-93")
    assert response.status_code == 200
    assert "gives your password away" in " ".join(response.context["form"].errors["hint"])
    alice.refresh_from_db()
    assert alice.password_hint == ""


def test_hint_needs_the_current_password(alice_client: Client, alice: User) -> None:
    response = _set_hint(alice_client, HINT, password="not-my-password-at-all")
    assert response.status_code == 200
    assert response.context["form"].errors["current_password"]
    alice.refresh_from_db()
    assert alice.password_hint == ""


def test_new_password_that_the_hint_gives_away_is_refused(
    alice_client: Client, alice: User
) -> None:
    _set_hint(alice_client, "Autumn rain over Kowloon")
    response = alice_client.post(
        "/accounts/password/change/",
        {
            "oldpassword": TEST_PASSWORD,
            "password1": "AutumnRainOverKowloon",
            "password2": "AutumnRainOverKowloon",
        },
    )
    assert response.status_code == 200
    assert "hint gives this password away" in str(response.context["form"].errors)
    alice.refresh_from_db()
    assert alice.check_password(TEST_PASSWORD)


def test_hint_is_mailed_to_the_verified_primary_address_only(ask, make_user, smtp_sink) -> None:  # type: ignore[no-untyped-def]
    alice = make_user("alice", password_hint=HINT)
    EmailAddress.objects.create(
        user=alice, email="alice-other@example.test", verified=False, primary=False
    )
    response = ask("alice-other@example.test")
    assert response.status_code == 302  # unverified address: same answer, nothing sent
    assert smtp_sink.messages == []
    response = ask("alice")
    assert response["Location"] == "/account/password-hint/sent/"
    (message,) = smtp_sink.messages
    assert message["To"] == "alice@example.test"
    assert HINT in smtp_sink.body(message)


def test_same_answer_whether_or_not_the_account_exists(ask, make_user, smtp_sink) -> None:  # type: ignore[no-untyped-def]
    make_user("alice", password_hint=HINT)
    make_user("bob")  # no hint
    answers = set()
    for login in ["alice", "bob", "nobody-here", "nobody@example.test"]:
        response = ask(login)
        answers.add((response.status_code, response["Location"]))
    assert answers == {(302, "/account/password-hint/sent/")}
    assert len(smtp_sink.messages) == 1


@pytest.mark.django_db
def test_no_hint_is_sent_to_an_unverified_primary(ask, smtp_sink) -> None:  # type: ignore[no-untyped-def]
    user = User.objects.create_user(
        "frank", "frank@example.test", TEST_PASSWORD, password_hint=HINT
    )
    EmailAddress.objects.create(user=user, email="frank@example.test", verified=False, primary=True)
    ask("frank")
    assert smtp_sink.messages == []


def test_hint_mail_is_rate_limited_per_account_and_per_ip(ask, make_user, smtp_sink) -> None:  # type: ignore[no-untyped-def]
    make_user("alice", password_hint=HINT)
    for _ in range(5):
        assert ask("alice").status_code == 302
    assert len(smtp_sink.messages) == 3  # 3 an hour per account; the answer does not change
    for _ in range(5):
        ask("someone-else")
    response = ask("alice")
    assert response.status_code == 429  # 10 an hour per IP
    assert "Too many requests" in response.content.decode()


@pytest.mark.parametrize("password", ["%^&*()_+{}:<>?~", "🔑🌙🐉🔑🌙🐉🔑🌙🐉🔑"])
def test_symbol_and_emoji_passwords_are_not_given_away_either(password: str) -> None:
    assert hint_reveals_password(f"it is {password}", password)
    assert hint_reveals_password(password[::-1], password)
    assert not hint_reveals_password("my favourite shapes", password)
