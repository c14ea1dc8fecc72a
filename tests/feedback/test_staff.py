"""Who may use the inbox; export, erasure, retention; the promise checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from safehold.core import promises, registry
from safehold.core.promises import Status as PromiseStatus
from safehold.feedback import services
from safehold.feedback.models import ContactMessage, Note, Reply, Status
from safehold.vault import keys
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def message(send) -> ContactMessage:  # type: ignore[no-untyped-def]
    response = send(Client(), {"email": "wen@example.test", "body": "private words"})
    assert response.status_code == 302
    return ContactMessage.objects.get()


def test_visitors_are_sent_to_sign_in(client: Client, message: ContactMessage) -> None:
    for path in ("/staff/inbox/", f"/staff/inbox/{message.reference}/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_non_staff_never_see_the_inbox_even_with_the_permission(
    make_staff, message: ContactMessage
) -> None:  # type: ignore[no-untyped-def]
    _, person = make_staff("mallory", "view_inbox", "reply", is_staff=False)
    for path in ("/staff/inbox/", f"/staff/inbox/{message.reference}/"):
        response = person.get(path)
        assert response.status_code == 403
        assert "private words" not in response.content.decode()
    assert person.post(f"/staff/inbox/{message.reference}/reply/", {"body": "x"}).status_code == 403
    assert Reply.objects.count() == 0


def test_staff_without_the_permission_cannot_see_it(make_staff, message: ContactMessage) -> None:  # type: ignore[no-untyped-def]
    _, staff = make_staff("intern")
    for path in ("/staff/inbox/", f"/staff/inbox/{message.reference}/"):
        response = staff.get(path)
        assert response.status_code == 403
        assert "private words" not in response.content.decode()
    from safehold.audit.models import Event

    assert not Event.objects.filter(event_type="contact:message:read").exists()


def test_read_only_staff_can_read_but_not_act(make_staff, message: ContactMessage) -> None:  # type: ignore[no-untyped-def]
    _, reader = make_staff("reader", "view_inbox")
    page = reader.get(f"/staff/inbox/{message.reference}/").content.decode()
    assert "private words" in page
    assert "/reply/" not in page
    for action, data in (
        ("reply", {"body": "hello"}),
        ("note", {"body": "hm"}),
        ("status", {"status": "closed"}),
        ("assign", {"assignee": ""}),
    ):
        response = reader.post(f"/staff/inbox/{message.reference}/{action}/", data)
        assert response.status_code == 403, action
    message.refresh_from_db()
    assert message.status == Status.NEW
    assert Reply.objects.count() == Note.objects.count() == 0


def test_permission_through_a_group(make_user, message: ContactMessage) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import Group, Permission

    team = Group.objects.create(name="support")
    team.permissions.add(Permission.objects.get(codename="view_inbox"))
    user = make_user("grouped", is_staff=True)
    user.groups.add(team)
    staff = Client()
    staff.post("/accounts/login/", {"login": "grouped", "password": TEST_PASSWORD})
    assert staff.get("/staff/inbox/").status_code == 200
    assert user in services.staff_who_can_answer()


def test_assign_only_to_staff_who_can_see_the_inbox(make_staff, message: ContactMessage) -> None:  # type: ignore[no-untyped-def]
    _, lead = make_staff("lead", "view_inbox", "reply")
    outsider, _ = make_staff("outsider")
    response = lead.post(f"/staff/inbox/{message.reference}/assign/", {"assignee": outsider.pk})
    assert response.status_code == 302  # not offered, so refused with a message
    page = lead.get(response["Location"]).content.decode()
    assert "Choose one of the staff members listed." in page
    message.refresh_from_db()
    assert message.assigned_to is None


def test_empty_reply_is_refused_and_nothing_sent(
    make_staff, message: ContactMessage, smtp_sink
) -> None:  # type: ignore[no-untyped-def]
    _, lead = make_staff("lead", "view_inbox", "reply")
    response = lead.post(f"/staff/inbox/{message.reference}/reply/", {"body": "  "})
    assert response.status_code == 200
    assert "Write the reply first." in response.content.decode()
    assert Reply.objects.count() == 0


def test_inbox_pages(make_staff, settings) -> None:  # type: ignore[no-untyped-def]
    from safehold.feedback import views
    from safehold.feedback.models import Category

    for n in range(views.INBOX_PAGE_SIZE + 3):
        services.send_message(
            sender=None,
            email=f"v{n}@example.test",
            name="",
            category=Category.COMMENT,
            body="x",
            language="en",
            actor=services.Actor.system(),
        )
    _, lead = make_staff("lead", "view_inbox")
    first = lead.get("/staff/inbox/?status=open").content.decode()
    assert first.count("data-contact-row=") == views.INBOX_PAGE_SIZE
    assert f"{views.INBOX_PAGE_SIZE + 3} messages." in first
    assert "?status=open&amp;page=2" in first
    second = lead.get("/staff/inbox/?status=open&page=2").content.decode()
    assert second.count("data-contact-row=") == 3


def test_unknown_message_is_404(make_staff) -> None:  # type: ignore[no-untyped-def]
    _, lead = make_staff("lead", "view_inbox", "reply")
    assert lead.get("/staff/inbox/SH-0000-0000/").status_code == 404
    assert lead.post("/staff/inbox/SH-0000-0000/reply/", {"body": "x"}).status_code == 404


# --- Export and erasure -------------------------------------------------------------------


def test_export_and_erasure(
    send, alice, alice_client, make_staff, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    send(alice_client, {"body": "signed-in words"})
    send(Client(REMOTE_ADDR="192.0.2.9"), {"email": "ALICE@example.test", "body": "from outside"})
    send(Client(REMOTE_ADDR="192.0.2.10"), {"email": "bob@example.test", "body": "bob's"})
    mine = ContactMessage.objects.get(sender=alice)
    _, lead = make_staff("lead", "view_inbox", "reply")
    lead.post(f"/staff/inbox/{mine.reference}/reply/", {"body": "thanks"})
    lead.post(f"/staff/inbox/{mine.reference}/note/", {"body": "internal only"})

    [part] = [e for e in registry.exporters() if e.name == "contact_messages"]
    rows = list(part.rows(alice))
    assert [r["message"] for r in rows] == ["signed-in words", "from outside"]
    assert rows[0]["replies"][0]["reply"] == "thanks"
    assert rows[0]["sent_signed_in"] is True
    assert rows[1]["sent_signed_in"] is False
    assert "internal only" not in repr(rows)

    key_ids = [m.data_key for m in ContactMessage.objects.all() if m.body != "bob's"]
    assert len(key_ids) == 2
    [eraser] = [e for e in registry.erasers() if e.name == "contact_messages"]
    with django_capture_on_commit_callbacks(execute=True):
        assert eraser.erase(alice) == 2
    assert [m.body for m in ContactMessage.objects.all()] == ["bob's"]
    assert Reply.objects.count() == Note.objects.count() == 0
    assert all(keys.is_shredded(k) for k in key_ids)


def test_retention_removes_long_closed_messages(send, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from safehold.jobs.retention import rules

    for n in range(2):
        send(Client(REMOTE_ADDR=f"192.0.2.{n}"), {"email": f"v{n}@example.test", "body": "x"})
    old, recent = ContactMessage.objects.order_by("id")
    now = timezone.now()
    for m, days in ((old, 800), (recent, 10)):
        m.status, m.closed_at = Status.CLOSED, now - timedelta(days=days)
        m.save(update_fields=["status", "closed_at"])
    [rule] = [r for r in rules() if r.name == "contact-messages"]
    assert rule.days == 730
    with django_capture_on_commit_callbacks(execute=True):
        assert rule.purge(now - timedelta(days=rule.days)) == 1
    assert list(ContactMessage.objects.all()) == [recent]
    assert keys.is_shredded(old.data_key)
    assert rule.purge(now - timedelta(days=rule.days)) == 0  # safe to run twice


# --- Promise checks ------------------------------------------------------------------------


def _check(promise_id: str) -> promises.Result:
    check = promises.get(promise_id)
    assert check is not None
    assert check.clause == "contact"
    return check.run()


def test_channel_open_check(settings, smtp_sink, make_user) -> None:  # type: ignore[no-untyped-def]
    result = _check("contact-open")
    assert result.status == PromiseStatus.BROKEN
    assert "Nobody can read the contact inbox" in str(result.detail)
    make_user("root", is_staff=True, is_superuser=True)
    assert _check("contact-open").status == PromiseStatus.HOLDS
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    assert _check("contact-open").status == PromiseStatus.NOT_CHECKED
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    assert _check("contact-open").status == PromiseStatus.BROKEN


def test_answered_in_time_check(send, make_staff, settings) -> None:  # type: ignore[no-untyped-def]
    assert _check("contact-answered").status == PromiseStatus.HOLDS  # nothing waits
    send(Client(), {"email": "wen@example.test", "body": "anyone there?"})
    message = ContactMessage.objects.get()
    assert _check("contact-answered").status == PromiseStatus.HOLDS  # young enough
    message.created_at -= timedelta(days=settings.SAFEHOLD_CONTACT_ANSWER_DAYS + 1)
    message.save(update_fields=["created_at"])
    result = _check("contact-answered")
    assert result.status == PromiseStatus.BROKEN
    assert "1 message has waited more than 7 days" in str(result.detail)
    _, lead = make_staff("lead", "view_inbox", "reply")
    lead.post(f"/staff/inbox/{message.reference}/reply/", {"body": "sorry for the wait"})
    assert _check("contact-answered").status == PromiseStatus.HOLDS


def test_the_rights_erasure_removes_the_messages(
    send, alice, alice_client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """Through the rights app's own erasure: the eraser runs before the addresses go."""
    from safehold.audit.services import Actor
    from safehold.rights import services as rights

    send(alice_client, {"body": "signed-in words"})
    send(Client(REMOTE_ADDR="192.0.2.9"), {"email": "alice@example.test", "body": "anonymous"})
    key_ids = [m.data_key for m in ContactMessage.objects.all()]
    erasure, _ = rights.request_erasure(alice, actor=Actor.system(), grace=timedelta(0))
    with django_capture_on_commit_callbacks(execute=True):
        rights.run_erasure(erasure.pk)
    erasure.refresh_from_db()
    assert erasure.counts["contact_messages"] == 2
    assert ContactMessage.objects.count() == 0
    assert all(keys.is_shredded(k) for k in key_ids)
