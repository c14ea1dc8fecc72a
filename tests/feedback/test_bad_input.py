"""Bad input and spam: each refusal answers clearly, stores nothing, and keeps what was typed."""

from __future__ import annotations

import html

import pytest
from django.test import Client

from safehold.api.rates import Rate
from safehold.feedback.models import ContactMessage
from tests.feedback.conftest import stamp_from

pytestmark = pytest.mark.django_db

TEXT = "I would like to know which cookies you set, and why. <script>alert(1)</script> 谢谢"


def _page(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.content.decode())


def _kept(response, *texts: str) -> None:  # type: ignore[no-untyped-def]
    """Nothing the person typed is lost: every text is back in the form."""
    page = _page(response)
    for text in texts:
        assert text in page


def test_oversized_message_is_refused_and_kept_whole(send, smtp_sink, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SAFEHOLD_CONTACT_MAX_CHARS = 200
    long_text = ("A long story about my data. " * 10).strip()  # 279 characters
    response = send(
        Client(), {"email": "long@example.test", "name": "Long Winded", "body": long_text}
    )
    assert response.status_code == 200
    assert "Your message is 279 characters long; the limit is 200." in _page(response)
    _kept(response, long_text, "long@example.test", "Long Winded")
    assert 'maxlength="200"' not in _page(response)  # the browser would cut a paste short
    assert ContactMessage.objects.count() == 0
    assert smtp_sink.messages == []


def test_missing_email_for_an_anonymous_visitor(send) -> None:  # type: ignore[no-untyped-def]
    response = send(Client(), {"email": "", "name": "Nobody", "body": TEXT})
    assert response.status_code == 200
    assert "Please give an e-mail address, so that we can answer you." in _page(response)
    _kept(response, TEXT, "Nobody")
    assert "<script>alert(1)</script>" not in response.content.decode()  # escaped, not run
    assert ContactMessage.objects.count() == 0


def test_a_wrong_email_and_an_empty_message(send) -> None:  # type: ignore[no-untyped-def]
    response = send(Client(), {"email": "not-an-address", "body": "   "})
    page = _page(response)
    assert "This does not look like an e-mail address" in page
    assert "Please write your message." in page
    assert 'value="not-an-address"' in page
    assert ContactMessage.objects.count() == 0


def test_flood_from_one_ip_is_stopped(send, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SAFEHOLD_CONTACT_RATE_IP = Rate(3, 3600)
    flood = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(3):
        response = send(flood, {"email": f"bot{n}@example.test", "body": f"buy now {n}"})
        assert response.status_code == 302
    response = send(flood, {"email": "bot9@example.test", "body": "buy now 9"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many messages from your network." in _page(response)
    assert "Your message is still here" in _page(response)
    _kept(response, "buy now 9", "bot9@example.test")
    assert ContactMessage.objects.count() == 3
    # Someone else, elsewhere, is not held up by it.
    assert send(Client(REMOTE_ADDR="198.51.100.7"), {"email": "a@example.test", "body": "hi"})[
        "Location"
    ].startswith("/contact/sent/")


def test_flood_from_one_address_is_stopped(send, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SAFEHOLD_CONTACT_RATE_EMAIL = Rate(2, 3600)
    for n in range(2):
        visitor = Client(REMOTE_ADDR=f"192.0.2.{n + 1}")
        assert send(visitor, {"email": "Same@Example.test", "body": f"note {n}"}).status_code == 302
    response = send(
        Client(REMOTE_ADDR="192.0.2.50"), {"email": "same@example.TEST ", "body": "note 3"}
    )
    assert response.status_code == 429
    assert "Too many messages from this e-mail address." in _page(response)
    _kept(response, "note 3")
    assert ContactMessage.objects.count() == 2


def test_honeypot_filled_is_refused(send) -> None:  # type: ignore[no-untyped-def]
    response = send(
        Client(), {"email": "bot@example.test", "body": TEXT, "website": "http://spam.example"}
    )
    assert response.status_code == 200
    assert "This field must stay empty." in _page(response)
    _kept(response, TEXT, "bot@example.test")
    assert ContactMessage.objects.count() == 0


def test_honeypot_is_hidden_from_people(client: Client) -> None:
    page = client.get("/contact/").content.decode()
    assert 'class="contact-hp" aria-hidden="true"' in page
    assert 'name="website"' in page
    assert "style=" not in page  # hidden by the stylesheet (CSP forbids inline styles)


def test_too_fast_is_refused_then_accepted_after_a_pause(send, later) -> None:  # type: ignore[no-untyped-def]
    visitor = Client()
    response = send(visitor, {"email": "quick@example.test", "body": TEXT}, wait=0.5)
    assert response.status_code == 200
    assert "faster than a person can type" in _page(response)
    _kept(response, TEXT, "quick@example.test")
    assert ContactMessage.objects.count() == 0
    # The form came back with its original stamp: a few seconds later it goes through.
    later(5)
    again = visitor.post(
        "/contact/",
        {
            "category": "comment",
            "email": "quick@example.test",
            "body": TEXT,
            "website": "",
            "started": stamp_from(response.content.decode()),
        },
    )
    assert again.status_code == 302
    assert ContactMessage.objects.get().body == TEXT


@pytest.mark.parametrize("stamp", ["", "forged:stamp", None])
def test_missing_forged_or_stale_stamp_gets_a_fresh_one(
    client: Client, later, stamp: str | None, settings
) -> None:  # type: ignore[no-untyped-def]
    if stamp is None:  # a form left open for two days
        stamp = stamp_from(client.get("/contact/").content.decode())
        later(2 * 86400)
    response = client.post(
        "/contact/",
        {"category": "comment", "email": "v@example.test", "body": TEXT, "started": stamp},
    )
    assert response.status_code == 200
    assert "Your message is still here" in _page(response)
    _kept(response, TEXT, "v@example.test")
    fresh = stamp_from(response.content.decode())
    assert fresh != stamp
    later(10)
    response = client.post(
        "/contact/",
        {"category": "comment", "email": "v@example.test", "body": TEXT, "started": fresh},
    )
    assert response.status_code == 302


def test_unknown_category_is_refused(send) -> None:  # type: ignore[no-untyped-def]
    response = send(Client(), {"email": "v@example.test", "body": TEXT, "category": "lottery"})
    assert response.status_code == 200
    assert "Select a valid choice." in _page(response)
    _kept(response, TEXT)
    assert ContactMessage.objects.count() == 0


def test_sent_page_needs_a_signed_reference(client: Client) -> None:
    response = client.get("/contact/sent/?r=SH-AAAA-AAAA")
    assert response.status_code == 302
    assert response["Location"] == "/contact/"


def test_contact_page_in_chinese(client: Client) -> None:
    page = client.get("/contact/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert 'lang="zh-hans"' in page
    assert "联系我们" in page


def test_signed_in_without_an_address_is_told_and_keeps_the_text(send, alice, alice_client) -> None:  # type: ignore[no-untyped-def]
    from allauth.account.models import EmailAddress

    EmailAddress.objects.filter(user=alice).delete()
    response = send(alice_client, {"body": TEXT})
    assert response.status_code == 200
    assert "Your account has no e-mail address to answer" in _page(response)
    _kept(response, TEXT)
    assert ContactMessage.objects.count() == 0
