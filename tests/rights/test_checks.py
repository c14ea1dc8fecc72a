"""The promise map's live checks for erasure and for the archives of 'download my data'."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from safehold.accounts.models import User
from safehold.audit.services import Actor
from safehold.core.promises import Status
from safehold.rights import checks, services
from safehold.rights.models import Erasure, Export

pytestmark = pytest.mark.django_db


def test_erasure_check_breaks_when_an_erasure_is_overdue_and_holds_once_done(alice: User) -> None:
    assert checks.check_erasures_done().status == Status.HOLDS
    erasure, _ = services.request_erasure(alice, actor=Actor.system())
    Erasure.objects.filter(pk=erasure.pk).update(erase_after=timezone.now() - timedelta(days=2))
    result = checks.check_erasures_done()
    assert result.status == Status.BROKEN
    assert "overdue" in str(result.detail)
    services.run_erasure(erasure.pk)
    assert checks.check_erasures_done().status == Status.HOLDS
    User.objects.filter(pk=alice.pk).update(is_active=True)  # as if erasure left it usable
    assert checks.check_erasures_done().status == Status.BROKEN


def test_archive_check_breaks_on_kept_expired_or_unsealed_archives(alice: User) -> None:
    export, _ = services.request_export(alice, actor=Actor.system())
    services.build_export(export.pk)
    assert checks.check_archives_expire().status == Status.HOLDS
    export.refresh_from_db()
    path = services.export_dir() / export.archive_name
    path.write_bytes(b"PK\x03\x04 a plain zip")
    assert checks.check_archives_expire().status == Status.BROKEN
    Export.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(days=2))
    assert checks.check_archives_expire().status == Status.BROKEN
    services.expire_exports()
    assert checks.check_archives_expire().status == Status.HOLDS
