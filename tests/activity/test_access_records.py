"""Access records: sealed under the person's key, exported, erased, purged by age."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from safehold.activity import services
from safehold.activity.models import AccessRecord
from safehold.core import registry
from safehold.vault import keys

pytestmark = pytest.mark.django_db

CLIENT = {"browser": "Firefox 133", "os": "Ubuntu", "ip": "203.0.113.7", "place": "NL"}


def _raw_details(pk: int) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute("SELECT details FROM activity_accessrecord WHERE id = %s", [pk])
        return bytes(cursor.fetchone()[0])


def test_record_is_sealed_and_reads_back(alice) -> None:
    row = services.record_access(
        alice, kind="sign-in", path="/account/?email=a@b.example", client=CLIENT
    )
    raw = _raw_details(row.pk)
    assert raw[0] == 1
    assert b"203.0.113.7" not in raw
    assert b"Firefox" not in raw
    again = AccessRecord.objects.get(pk=row.pk)
    assert (again.path, again.browser, again.ip_address, again.place) == (
        "/account/",  # the query string is never stored
        "Firefox 133",
        "203.0.113.7",
        "NL",
    )


def test_unknown_kind_or_result_is_refused(alice) -> None:
    with pytest.raises(ValueError, match="unknown access kind"):
        services.record_access(alice, kind="sneeze", client=CLIENT)
    with pytest.raises(ValueError, match="unknown access result"):
        services.record_access(alice, kind="sign-in", result="maybe", client=CLIENT)


def test_export_streams_every_record_in_order_and_shredding_erases(alice, make_user) -> None:
    bob = make_user("bob")
    now = timezone.now()
    for minutes in (3, 1, 2):
        services.record_access(
            alice,
            kind="page-visit",
            path=f"/account/{minutes}/",
            client=CLIENT,
            at=now - timedelta(minutes=minutes),
        )
    services.record_access(bob, kind="sign-in", client=CLIENT)
    exporter = next(e for e in registry.exporters() if e.name == "access_records")
    rows = list(exporter.rows(alice))
    assert [r["page"] for r in rows] == ["/account/3/", "/account/2/", "/account/1/"]
    assert rows[0]["ip_address"] == "203.0.113.7"
    assert rows[0]["kind"] == "page-visit"
    keys.shred_data_key(alice.data_key)
    assert [r["page"] for r in exporter.rows(alice)] == ["", "", ""]  # unreadable now
    eraser = next(e for e in registry.erasers() if e.name == "access_records")
    assert eraser.erase(alice) == 3
    assert AccessRecord.objects.filter(user=bob).count() == 1


def test_purge_removes_exactly_what_is_older_than_the_cutoff(alice) -> None:
    now = timezone.now()
    old = services.record_access(alice, kind="sign-in", client=CLIENT, at=now - timedelta(days=181))
    edge = services.record_access(
        alice, kind="sign-in", client=CLIENT, at=now - timedelta(days=180)
    )
    services.record_access(alice, kind="sign-in", client=CLIENT, at=now)
    assert services.purge_access_records(edge.at) == 1
    assert not AccessRecord.objects.filter(pk=old.pk).exists()
    assert AccessRecord.objects.filter(user=alice).count() == 2
    assert services.purge_access_records(edge.at) == 0
