"""Opt-in e-mail when a new version takes effect; export and erasure of a person's records."""

from __future__ import annotations

from datetime import timedelta

import pytest

from safehold.core import registry
from safehold.policy import services, tasks
from safehold.policy.models import Acknowledgement, Announcement, NoticePreference

pytestmark = pytest.mark.django_db


def test_opted_in_people_get_one_email_when_a_scheduled_version_takes_effect(
    alice_client, alice, make_user, publish, clock, smtp_sink
) -> None:  # type: ignore[no-untyped-def]
    make_user("bob")  # never opted in
    page = alice_client.post("/privacy/account/", {"email_on_new_version": "on"}, follow=True)
    assert "We will e-mail you when a new version takes effect." in page.content.decode()
    assert services.wants_notices(alice)

    v2 = publish(
        {"en": "# S\n\nNew."},
        effective_at=clock.now() + timedelta(hours=6),
        summaries={"en": "A shorter statement."},
    )
    assert services.send_announcements(v2.pk) == 0  # not in force yet
    clock.forward(timedelta(hours=7))
    tasks.announce({"version_id": v2.pk})  # the job enqueued for its effective time

    mails = smtp_sink.to("alice@example.test")
    assert len(mails) == 1
    assert "version 2" in mails[0]["Subject"]
    body = smtp_sink.body(mails[0])
    assert "A shorter statement." in body
    assert "/privacy/v2/" in body
    assert smtp_sink.to("bob@example.test") == []
    # The sweep and a retried job send nothing twice.
    tasks.announce_current({})
    tasks.announce({"version_id": v2.pk})
    assert len(smtp_sink.to("alice@example.test")) == 1
    assert Announcement.objects.filter(version=v2).count() == 1


def test_turning_the_emails_off(alice_client, alice) -> None:  # type: ignore[no-untyped-def]
    alice_client.post("/privacy/account/", {"email_on_new_version": "on"})
    alice_client.post("/privacy/account/", {})
    assert not services.wants_notices(alice)
    page = alice_client.get("/account/").content.decode()
    assert "E-mail about new versions" in page


def test_publication_queues_the_announcement_for_the_effective_time(publish, clock) -> None:  # type: ignore[no-untyped-def]
    from safehold.jobs.models import Job

    when = clock.now() + timedelta(days=2)
    v2 = publish({"en": "# S\n\nx"}, effective_at=when)
    job = Job.objects.get(dedupe_key=f"policy.announce:{v2.pk}")
    assert job.name == "policy.announce"
    assert job.payload == {"version_id": v2.pk}
    assert abs((job.run_at - when).total_seconds()) < 1


def test_export_and_erasure_cover_acknowledgements_and_the_preference(
    alice, publish, clock
) -> None:  # type: ignore[no-untyped-def]
    from safehold.audit.services import Actor

    v2 = publish({"en": "# S\n\nx"}, material=True)
    services.acknowledge(alice, v2, actor=Actor.system())
    services.set_notice_preference(alice, enabled=True, actor=Actor.system())
    exporter = next(e for e in registry.exporters() if e.name == "privacy_statement")
    rows = list(exporter.rows(alice))
    assert {k: rows[0][k] for k in ("kind", "version")} == {"kind": "acknowledgement", "version": 2}
    assert rows[1]["email_on_new_version"] is True
    eraser = next(e for e in registry.erasers() if e.name == "privacy_statement")
    assert eraser.erase(alice) == 2
    assert not Acknowledgement.objects.filter(user=alice).exists()
    assert not NoticePreference.objects.filter(user=alice).exists()


def test_the_worker_sends_the_announcement_when_the_version_takes_effect(
    alice, publish, clock, smtp_sink, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from safehold.audit.services import Actor
    from safehold.jobs import queue, worker

    monkeypatch.setattr(queue, "_now", clock.now)  # the worker's clock moves with ours
    services.set_notice_preference(alice, enabled=True, actor=Actor.system())
    publish({"en": "# S\n\nLater."}, effective_at=clock.now() + timedelta(days=1))
    worker.run_pending()
    assert smtp_sink.to("alice@example.test") == []  # its job is not due yet

    clock.forward(timedelta(days=1, minutes=1))
    assert worker.run_pending() >= 1
    assert len(smtp_sink.to("alice@example.test")) == 1
    worker.run_pending()
    assert len(smtp_sink.to("alice@example.test")) == 1
