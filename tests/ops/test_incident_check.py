"""The promise map's check for "no security is perfect": a breach is answered in time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from safehold.core import promises
from safehold.core.promises import Status
from safehold.ops.models import Incident

pytestmark = pytest.mark.django_db


def _incident(**fields: object) -> Incident:
    now = timezone.now()
    values: dict[str, object] = {
        "title": "Stolen laptop",
        "summary": "A laptop with an export was stolen.",
        "advice": "Change your password.",
        "discovered_at": now - timedelta(hours=80),
        "notify_authority_by": now - timedelta(hours=8),
        "data_categories": ["email"],
    }
    values.update(fields)
    return Incident.objects.create(**values)


def _run() -> promises.Result:
    check = promises.get("breach-answered-in-time")
    assert check is not None
    assert check.clause == "no-perfect-security"
    return check.run()


def test_holds_without_incidents() -> None:
    assert _run().status == Status.HOLDS


def test_an_incident_past_its_deadline_without_notification_breaks_it() -> None:
    incident = _incident()
    result = _run()
    assert result.status == Status.BROKEN
    assert "1 breach incidents" in str(result.detail)
    incident.authority_notified_at = timezone.now()
    incident.save()
    assert _run().status == Status.HOLDS


def test_an_incident_still_within_its_deadline_holds() -> None:
    _incident(notify_authority_by=timezone.now() + timedelta(hours=10))
    assert _run().status == Status.HOLDS
