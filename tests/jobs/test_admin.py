"""Staff see jobs, failed ones first of all, and retry or acknowledge them."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from safehold.audit.events import EventType
from safehold.audit.models import Event
from safehold.audit.services import EventRecord
from safehold.core import promises
from safehold.jobs import enqueue
from safehold.jobs.models import Job
from safehold.jobs.worker import run_pending
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def staff_client(make_user, *codenames: str) -> Client:  # type: ignore[no-untyped-def]
    staff = make_user("operator", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    response = client.post("/accounts/login/", {"login": "operator", "password": TEST_PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def failed_job(clock) -> Job:  # type: ignore[no-untyped-def]
    job = enqueue("tests.flaky", {"key": "admin", "fail": 99, "export_id": 41})
    for _ in range(3):
        run_pending()
        clock.advance(hours=2)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    return job


def test_failed_jobs_are_listed_and_filtered(make_user, failed_job: Job, clock) -> None:  # type: ignore[no-untyped-def]
    done = enqueue("tests.noop", {"key": "fine"})
    run_pending()
    client = staff_client(make_user, "view_job")
    page = client.get("/admin/jobs/job/?attention=failed").content.decode()
    assert f">{failed_job.pk}<" in page
    assert "ValueError: the task raised an error" in page
    assert f">{done.pk}<" not in page
    assert "alice" not in page
    by_status = client.get("/admin/jobs/job/?status__exact=done").content.decode()
    assert f">{done.pk}<" in by_status
    assert f">{failed_job.pk}<" not in by_status
    detail = client.get(f"/admin/jobs/job/{failed_job.pk}/change/").content.decode()
    assert "&quot;export_id&quot;: 41" in detail
    assert 'name="payload"' not in detail  # shown, not editable


def test_viewing_needs_the_permission(make_user, failed_job: Job) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(make_user)
    assert client.get("/admin/jobs/job/").status_code == 403


def test_a_viewer_cannot_retry(make_user, failed_job: Job) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(make_user, "view_job")
    page = client.get("/admin/jobs/job/").content.decode()
    assert "retry_selected" not in page
    client.post(
        "/admin/jobs/job/", {"action": "retry_selected", "_selected_action": [failed_job.pk]}
    )
    failed_job.refresh_from_db()
    assert failed_job.status == Job.Status.FAILED


def test_retry_queues_the_job_again_and_is_recorded(make_user, failed_job: Job, clock) -> None:  # type: ignore[no-untyped-def]
    assert promises.get("jobs-running").run().status == promises.Status.BROKEN
    client = staff_client(make_user, "view_job", "change_job")
    assert 'value="retry_selected"' in client.get("/admin/jobs/job/").content.decode()
    response = client.post(
        "/admin/jobs/job/",
        {"action": "retry_selected", "_selected_action": [failed_job.pk]},
        follow=True,
    )
    assert "1 failed job queued again." in response.content.decode()
    failed_job.refresh_from_db()
    assert failed_job.status == Job.Status.QUEUED
    assert failed_job.attempts == 0
    assert failed_job.run_at == clock.now
    (event,) = Event.objects.filter(event_type=EventType.JOBS_RETRIED)
    record = EventRecord.from_bytes(bytes(event.data))
    assert json.loads(record.detail) == {"jobs": [failed_job.pk]}
    assert record.actor_kind == "staff"
    assert promises.get("jobs-running").run().status != promises.Status.BROKEN


def test_acknowledge_marks_the_failure_seen(make_user, failed_job: Job) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(make_user, "view_job", "change_job")
    client.post(
        "/admin/jobs/job/", {"action": "acknowledge_selected", "_selected_action": [failed_job.pk]}
    )
    failed_job.refresh_from_db()
    assert failed_job.status == Job.Status.FAILED
    assert failed_job.acknowledged_at is not None
    assert Event.objects.filter(event_type=EventType.JOBS_ACKNOWLEDGED).count() == 1
    assert (
        client.get("/admin/jobs/job/?attention=failed").content.decode().count(f">{failed_job.pk}<")
        == 0
    )
