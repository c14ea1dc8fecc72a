"""The breach drill: staff open an incident, find the affected people in the audit log,
send each a notice in their language (to a real SMTP server), export the timeline."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission

from safehold.audit import services as audit_services
from safehold.audit.events import EventType
from safehold.audit.models import Event
from safehold.audit.services import Actor, record_event
from safehold.consent import services as consent
from safehold.ops.models import AffectedPerson, Incident
from tests.conftest import TEST_PASSWORD

WINDOW_START = datetime(2026, 11, 20, 8, tzinfo=UTC)
WINDOW_END = datetime(2026, 11, 20, 20, tzinfo=UTC)


def _event_at(monkeypatch: pytest.MonkeyPatch, when: datetime, user) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(audit_services, "_now", lambda: when)
    record_event(EventType.PROFILE_UPDATED, actor=Actor.system(), subject=user)
    monkeypatch.undo()


@pytest.fixture
def people(make_user, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Three people touched in the breach window, one outside it; Chen reads Chinese."""
    inside = [make_user(name) for name in ("amy", "bo", "chen")]
    outside = make_user("dana")
    for i, user in enumerate(inside):
        _event_at(monkeypatch, WINDOW_START + timedelta(hours=i + 1), user)
    _event_at(monkeypatch, WINDOW_START - timedelta(days=2), outside)
    consent.record_choice(
        visitor_id="chen-visitor-000000001",
        choices={},
        method="settings",
        actor=Actor.system(),
        user=inside[2],
        language="zh-hans",
    )
    return inside, outside


@pytest.fixture
def staff_client(client, make_user):  # type: ignore[no-untyped-def]
    make_user("officer", is_staff=True, is_superuser=True)
    response = client.post("/accounts/login/", {"login": "officer", "password": TEST_PASSWORD})
    assert response.status_code == 302
    return client


def _open(staff_client) -> Incident:  # type: ignore[no-untyped-def]
    response = staff_client.post(
        "/admin/ops/incident/add/",
        {
            "title": "Stolen backup tape",
            "summary": "A copy of our database left the building on 20 November.",
            "advice": "Change your password.",
            "summary__zh_hans": "我们的数据库副本于11月20日被带出。",
            "advice__zh_hans": "请修改您的密码。",
            "discovered_at_0": "2026-11-21",
            "discovered_at_1": "09:30:00",
            "occurred_from_0": "2026-11-20",
            "occurred_from_1": "08:00:00",
            "occurred_until_0": "2026-11-20",
            "occurred_until_1": "20:00:00",
            "data_categories": ["contact", "identity"],
            "affected-TOTAL_FORMS": "0",
            "affected-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    return Incident.objects.get()


def _action(staff_client, action: str, incident: Incident):  # type: ignore[no-untyped-def]
    return staff_client.post(
        "/admin/ops/incident/",
        {"action": action, "_selected_action": [incident.pk]},
        follow=True,
    )


def test_breach_drill(staff_client, people, smtp_sink) -> None:  # type: ignore[no-untyped-def]
    inside, outside = people
    incident = _open(staff_client)
    # The default deadline: 72 hours after discovery.
    assert incident.notify_authority_by == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    assert incident.data_categories == ["contact", "identity"]

    _action(staff_client, "add_from_audit_log", incident)
    affected = set(AffectedPerson.objects.values_list("user__username", flat=True))
    assert affected == {"amy", "bo", "chen"}  # dana's only event is outside the window

    # Someone chosen by hand, by e-mail address.
    response = staff_client.post(
        f"/admin/ops/incident/{incident.pk}/add-people/", {"people": "dana@example.test\nnobody"}
    )
    assert response.status_code == 302
    assert AffectedPerson.objects.count() == 4

    _action(staff_client, "send_notices", incident)
    assert len(smtp_sink.messages) == 4
    [to_amy] = smtp_sink.to("amy@example.test")
    body = smtp_sink.body(to_amy)
    assert "A copy of our database left the building" in body
    assert "Change your password." in body
    assert "What happened" in body
    [to_chen] = smtp_sink.to("chen@example.test")
    chinese = smtp_sink.body(to_chen)
    assert "我们的数据库副本" in chinese
    assert "请修改您的密码" in chinese
    assert "发生了什么" in chinese  # the frame is in Chinese too
    # Nobody is told twice.
    _action(staff_client, "send_notices", incident)
    assert len(smtp_sink.messages) == 4
    assert AffectedPerson.objects.filter(notified_at__isnull=True).count() == 0

    _action(staff_client, "authority_notified", incident)
    incident.refresh_from_db()
    assert incident.authority_notified_at is not None
    assert incident.status == Incident.Status.NOTIFYING

    response = staff_client.get(f"/admin/ops/incident/{incident.pk}/timeline.json")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    document = json.loads(response.content)
    steps = [step["event"] for step in document["timeline"]]
    assert steps[0] == "incident:opened"
    assert steps.count("incident:person-added") == 4
    assert steps.count("incident:notice-sent") == 4
    assert "incident:authority-notified" in steps
    assert document["people_affected"] == 4
    assert document["people_notified"] == 4
    # People are ids in the timeline, never names or addresses.
    assert "amy" not in json.dumps(document["timeline"])

    response = staff_client.get(f"/admin/ops/incident/{incident.pk}/timeline.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["seq", "at", "event", "actor", "person", "detail"]
    assert len(rows) - 1 == len(document["timeline"]) + 1  # + the JSON export itself

    # Every step is in the audit log, each notice under the person it went to.
    for user in [*inside, outside]:
        assert Event.objects.filter(
            event_type=EventType.INCIDENT_NOTICE_SENT, subject_id=str(user.pk)
        ).exists()
    assert Event.objects.filter(event_type=EventType.INCIDENT_EXPORTED).count() == 2

    _action(staff_client, "close", incident)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.CLOSED


def test_staff_without_the_permission_cannot_notify_or_export(client, make_user, people) -> None:  # type: ignore[no-untyped-def]
    clerk = make_user("clerk", is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_incident", "add_incident", "change_incident"]
        )
    )
    assert (
        client.post("/accounts/login/", {"login": "clerk", "password": TEST_PASSWORD}).status_code
        == 302
    )
    incident = _open(client)
    assert client.get(f"/admin/ops/incident/{incident.pk}/timeline.json").status_code == 403
    assert client.get(f"/admin/ops/incident/{incident.pk}/add-people/").status_code == 403
    _action(client, "send_notices", incident)
    assert not AffectedPerson.objects.exists()
    assert not Event.objects.filter(event_type=EventType.INCIDENT_NOTICE_SENT).exists()


def test_a_person_outside_staff_cannot_reach_incidents(alice_client) -> None:  # type: ignore[no-untyped-def]
    response = alice_client.get("/admin/ops/incident/")
    assert response.status_code == 302  # to the admin's sign-in
