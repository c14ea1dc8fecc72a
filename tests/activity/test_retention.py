"""The worker's retention job applies the activity rules: exactly what is past its limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from safehold.activity import services
from safehold.activity.models import AccessRecord, Device
from safehold.audit.models import Event
from safehold.audit.services import Actor, EventRecord
from safehold.jobs import services as jobs
from safehold.jobs.retention import rules

pytestmark = pytest.mark.django_db

CLIENT = {"browser": "Firefox 133", "os": "Ubuntu", "ip": "203.0.113.7", "place": "NL"}


def _device(alice, token: str, ip_age: timedelta) -> Device:  # type: ignore[no-untyped-def]
    now = timezone.now()
    device = Device(
        user=alice,
        token_hash=token * 64,
        browser="Firefox",
        os="Linux",
        ip_address="192.0.2.9",
        place="local",
        first_seen_at=now - ip_age,
        last_seen_at=now - ip_age,
        ip_seen_at=now - ip_age,
    )
    device.save()
    return device


def test_the_rules_are_registered_with_their_settings(settings) -> None:
    by_name = {rule.name: rule for rule in rules()}
    assert by_name["access-records"].days == 180
    assert by_name["device-ips"].days == 90
    settings.SAFEHOLD_RETAIN_ACCESS_RECORDS_DAYS = 30
    assert by_name["access-records"].days == 30


def test_the_retention_job_purges_exactly_what_is_past_its_limit(alice, settings) -> None:
    settings.SAFEHOLD_RETAIN_ACCESS_RECORDS_DAYS = 30
    now = timezone.now()
    for days in (31, 45, 29, 1):
        services.record_access(alice, kind="sign-in", client=CLIENT, at=now - timedelta(days=days))
    old = _device(alice, "a", timedelta(days=91))
    recent = _device(alice, "b", timedelta(days=89))
    by_name = {rule.name: rule for rule in rules()}
    assert by_name["access-records"].count is not None
    assert by_name["access-records"].count(now - timedelta(days=30)) == 2

    jobs.run_retention(actor=Actor.system(), now=now)

    assert sorted((now - r.at).days for r in AccessRecord.objects.filter(user=alice)) == [1, 29]
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.ip_address is None
    assert old.browser == "Firefox"
    assert recent.ip_address == "192.0.2.9"
    details = [
        EventRecord.from_bytes(bytes(data)).detail_dict
        for data in Event.objects.filter(event_type="retention:purged").values_list(
            "data", flat=True
        )
    ]
    purged = {d["rule"]: d["count"] for d in details}
    assert purged.get("access-records") == 2
    assert purged.get("device-ips") == 1
