"""An erased person's consent records stay as anonymous proof, but the browser that made
them can never join them to an account again (the same person's new one, or anybody's)."""

from __future__ import annotations

import pytest

from safehold.audit.services import Actor
from safehold.consent import services
from safehold.consent.models import ConsentRecord

pytestmark = pytest.mark.django_db

VISITOR = "v_review_0123456789abcdef"


def test_an_erased_persons_records_are_not_joined_to_the_next_account(make_user) -> None:  # type: ignore[no-untyped-def]
    alice = make_user("alice")
    bob = make_user("bob")
    config = services.get_config()
    services.record_choice(
        visitor_id=VISITOR,
        choices=services.full_choices(config, allowed=[c.slug for c in config.categories]),
        method="banner",
        actor=Actor.system(),
        user=alice,
    )
    assert ConsentRecord.objects.filter(user=alice).count() == 1
    assert services.erase_person(alice) == 1
    record = ConsentRecord.objects.get()
    assert record.user is None
    assert record.visitor_id != VISITOR
    assert record.ip_network == ""
    # Bob signs in on the browser Alice used: nothing of hers becomes his.
    assert services.join_visitor(VISITOR, bob, actor=Actor.system()) == 0
    assert not ConsentRecord.objects.filter(user=bob).exists()
