"""The whole cycle: a message sent, acknowledged, read by staff (audited), answered, closed."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client

from safehold.audit.models import Event
from safehold.audit.services import EventRecord, events_about
from safehold.feedback.models import ContactMessage, Note, Reply, Status

REFERENCE = re.compile(r"SH-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")
BODY = "Please say how long you keep sign-in records. 这很重要。"


def _events(event_type: str) -> list[EventRecord]:
    return [
        EventRecord.from_bytes(bytes(data))
        for data in Event.objects.filter(event_type=event_type)
        .order_by("seq")
        .values_list("data", flat=True)
    ]


def _raw_row(message: ContactMessage) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT email, name, body FROM feedback_contactmessage WHERE id = %s", [message.pk]
        )
        return b"|".join(bytes(v) for v in cursor.fetchone() if v is not None)


@pytest.mark.django_db
def test_every_page_links_to_contact_us(alice_client: Client) -> None:
    visitor = Client()
    for c, path in ((visitor, "/"), (visitor, "/accounts/login/"), (alice_client, "/account/")):
        assert 'href="/contact/"' in c.get(path).content.decode(), path


@pytest.mark.django_db
def test_anonymous_visitor_full_cycle(
    send, smtp_sink, make_staff, django_capture_on_commit_callbacks, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.SAFEHOLD_CONTACT_NOTIFY = ["team@example.test"]
    visitor = Client()
    response = send(
        visitor,
        {
            "category": "privacy-question",
            "name": "Wen Li",
            "email": "wen@example.test",
            "body": BODY,
        },
    )
    assert response.status_code == 302
    page = visitor.get(response["Location"]).content.decode()
    reference = REFERENCE.search(page).group(0)

    message = ContactMessage.objects.get(reference=reference)
    assert message.sender is None
    assert (message.email, message.name, message.body) == ("wen@example.test", "Wen Li", BODY)
    assert message.data_key  # a key of its own: an anonymous sender has no account key
    raw = _raw_row(message)
    for plain in (b"wen@example.test", b"Wen Li", "这很重要".encode()):
        assert plain not in raw

    [ack] = smtp_sink.to("wen@example.test")
    assert reference in ack["Subject"]
    assert reference in smtp_sink.body(ack)
    assert BODY not in smtp_sink.body(ack)  # a mistyped address learns nothing of the message
    assert ack["Reply-To"] == settings.SAFEHOLD_CONTACT_EMAIL
    [notice] = smtp_sink.to("team@example.test")
    assert reference in notice["Subject"]
    assert "/staff/inbox/" in smtp_sink.body(notice)
    for secret in ("wen@example.test", "Wen Li", "sign-in records"):
        assert secret not in smtp_sink.body(notice)
    [sent_event] = _events("contact:message:sent")
    assert sent_event.actor_kind == "anonymous"
    assert sent_event.subject_id == ""
    assert sent_event.detail_dict == {
        "account": False,
        "category": "privacy-question",
        "message": message.pk,
    }
    assert "wen" not in sent_event.detail

    clerk, staff = make_staff("clerk", "view_inbox", "reply")
    inbox = staff.get("/staff/inbox/").content.decode()
    assert reference in inbox
    assert "Wen Li" not in inbox
    assert "wen@example.test" not in inbox
    assert "这很重要" not in inbox
    assert _events("contact:message:read") == []  # the list shows no personal content

    detail = staff.get(f"/staff/inbox/{reference}/").content.decode()
    assert "这很重要" in detail
    assert "wen@example.test" in detail
    [read] = _events("contact:message:read")
    assert (read.actor_kind, read.actor_id, read.subject_id) == ("staff", str(clerk.pk), "")

    assert (
        staff.post(f"/staff/inbox/{reference}/assign/", {"assignee": clerk.pk}).status_code == 302
    )
    assert (
        staff.post(f"/staff/inbox/{reference}/note/", {"body": "ask legal first"}).status_code
        == 302
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            f"/staff/inbox/{reference}/reply/", {"body": "We keep them for 180 days."}
        )
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == Status.ANSWERED
    assert message.assigned_to == clerk
    assert message.first_answered_at is not None
    [answer] = smtp_sink.to("wen@example.test")[1:]
    assert reference in answer["Subject"]
    text = smtp_sink.body(answer)
    assert "We keep them for 180 days." in text
    assert "ask legal first" not in text
    assert "/account/messages/" not in text  # no account to read it in
    assert Note.objects.get().body == "ask legal first"

    staff.post(f"/staff/inbox/{reference}/status/", {"status": "closed"})
    message.refresh_from_db()
    assert message.status == Status.CLOSED
    assert message.closed_at is not None
    assert reference not in staff.get("/staff/inbox/").content.decode()  # "not closed" default
    assert reference in staff.get("/staff/inbox/?status=closed").content.decode()
    kinds = [e.event_type for e in _events("contact:message:assigned")] + [
        e.event_type for e in _events("contact:note:added")
    ]
    assert kinds == ["contact:message:assigned", "contact:note:added"]
    [status_event] = _events("contact:message:status-changed")
    assert status_event.detail_dict["to"] == "closed"


@pytest.mark.django_db
def test_signed_in_person_sees_the_reply_in_their_account(
    send, smtp_sink, alice, alice_client, make_staff, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    page = alice_client.get("/contact/").content.decode()
    assert "alice@example.test" in page  # answered at the account's primary address
    assert 'name="email"' not in page
    response = send(alice_client, {"category": "suggestion", "body": "Add a dark theme."})
    assert response.status_code == 302
    message = ContactMessage.objects.get()
    assert message.sender == alice
    assert message.email == "alice@example.test"
    [ack] = smtp_sink.to("alice@example.test")
    assert message.reference in smtp_sink.body(ack)
    assert "/account/messages/" in smtp_sink.body(ack)

    own = alice_client.get("/account/messages/").content.decode()
    assert "Add a dark theme." in own
    assert "No answer yet." in own

    clerk, staff = make_staff("clerk", "view_inbox", "reply")
    staff.get(f"/staff/inbox/{message.reference}/")
    [read] = _events("contact:message:read")
    assert (read.actor_id, read.subject_id) == (str(clerk.pk), str(alice.pk))
    assert any(e.event_type == "contact:message:read" for e in events_about(alice.pk))

    staff.post(f"/staff/inbox/{message.reference}/note/", {"body": "she asked before"})
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/staff/inbox/{message.reference}/reply/", {"body": "It is on our list."})
    [_, answer] = smtp_sink.to("alice@example.test")
    assert "It is on our list." in smtp_sink.body(answer)
    own = alice_client.get("/account/messages/").content.decode()
    assert "It is on our list." in own
    assert "she asked before" not in own  # internal notes are never shown to the person
    overview = alice_client.get("/account/").content.decode()
    card = overview[overview.index("data-contact-centre") :]
    assert re.search(r"Answered</dt><dd>1</dd>", card)
    assert 'href="/account/messages/"' in overview
    assert Reply.objects.get().body == "It is on our list."


@pytest.mark.django_db
def test_inbox_filters_by_status_and_age(send, make_staff, later) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    for n in range(3):
        send(Client(REMOTE_ADDR=f"198.51.100.{n}"), {"email": f"v{n}@example.test", "body": "hi"})
    old, middle, new = ContactMessage.objects.order_by("id")
    old.created_at -= timedelta(days=10)
    old.save(update_fields=["created_at"])
    middle.created_at -= timedelta(days=2)
    middle.save(update_fields=["created_at"])
    _, staff = make_staff("clerk", "view_inbox", "reply")
    staff.post(f"/staff/inbox/{new.reference}/status/", {"status": "in-progress"})

    def listed(query: str) -> set[str]:
        page = staff.get(f"/staff/inbox/?{query}").content.decode()
        return set(re.findall(r'data-contact-row="([^"]+)"', page))

    assert listed("status=open") == {old.reference, middle.reference, new.reference}
    assert listed("status=open&older_than=7") == {old.reference}
    assert listed("status=open&older_than=1") == {old.reference, middle.reference}
    assert listed("status=in-progress") == {new.reference}
    assert listed("status=new&older_than=30") == set()
    page = staff.get("/staff/inbox/").content.decode()
    assert "1\xa0week" in page or "1 week" in page  # how long the oldest has been open
