"""Sign-ups never verified are erased after SAFEHOLD_RETAIN_UNVERIFIED_SIGNUPS_DAYS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from safehold.accounts.models import User
from safehold.jobs.retention import rules
from safehold.rights.models import Erasure, Tombstone
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _sign_up(username: str, *, days_ago: float, verified: bool = False, **extra) -> User:  # type: ignore[no-untyped-def]
    user = User.objects.create_user(username, f"{username}@example.test", TEST_PASSWORD, **extra)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=verified)
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - timedelta(days=days_ago))
    return user


def _rule():  # type: ignore[no-untyped-def]
    (rule,) = [r for r in rules() if r.name == "unverified-sign-ups"]
    return rule


def test_the_rule_is_registered_with_its_setting(settings) -> None:  # type: ignore[no-untyped-def]
    assert _rule().days == 7
    settings.SAFEHOLD_RETAIN_UNVERIFIED_SIGNUPS_DAYS = 3
    assert _rule().days == 3


def test_it_erases_exactly_the_unverified_sign_ups_past_the_limit() -> None:
    old = _sign_up("old", days_ago=7.01)
    recent = _sign_up("recent", days_ago=6.99)
    verified = _sign_up("verified", days_ago=30, verified=True)
    staff = _sign_up("staffer", days_ago=30, is_staff=True)
    cutoff = timezone.now() - timedelta(days=_rule().days)
    assert _rule().purge(cutoff) == 1
    assert list(Tombstone.objects.values_list("user_id", flat=True)) == [old.pk]
    erasure = Erasure.objects.get()
    assert erasure.reason == Erasure.Reason.UNVERIFIED
    assert erasure.status == Erasure.Status.COMPLETED
    old.refresh_from_db()
    assert not old.is_active
    assert not EmailAddress.objects.filter(user=old).exists()
    for kept in (recent, verified, staff):
        kept.refresh_from_db()
        assert kept.is_active
        assert EmailAddress.objects.filter(user=kept).exists()
    # Safe to run twice: nothing more to do.
    assert _rule().purge(cutoff) == 0
