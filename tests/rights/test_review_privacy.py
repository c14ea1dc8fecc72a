"""Privacy review: "download my data" must not tell a person about a legal request that
is still under a non-disclosure order (the sharing app hides the disclosure until the
order's review date; the audit events about the request must stay out of the archive too).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from safehold.accounts.models import User
from safehold.rights import profile
from safehold.sharing import services as sharing
from tests.sharing.conftest import actor_of

pytestmark = pytest.mark.django_db


def _legal_staff(make_user: Any, username: str) -> User:
    staff = make_user(username, is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="approve_legal_request"))
    return User.objects.get(pk=staff.pk)  # a fresh object: permissions are cached


def _gagged_release(make_user: Any) -> tuple[User, User, Any]:
    person = make_user("nadia", name="Nadia Kaur", phone="+447911123456")
    clerk, counsel = _legal_staff(make_user, "clerk"), _legal_staff(make_user, "counsel")
    request = sharing.record_legal_request(
        person=person,
        authority_name="Leeds Crown Court",
        authority_type="court",
        instrument="production order",
        reference="2026/117",
        categories=["name", "phone"],
        period_start=None,
        period_end=None,
        document=sharing.Document("order.pdf", b"%PDF-1.4 order\n"),
        gag_review_date=timezone.localdate() + timedelta(days=30),
        staff=clerk,
        actor=actor_of(clerk),
    )
    sharing.decide_legal_request(request, approve=True, staff=counsel, actor=actor_of(counsel))
    sharing.release_legal_request(request, staff=counsel, actor=actor_of(counsel))
    sharing.read_document(request, staff=counsel, actor=actor_of(counsel))
    return person, counsel, request


def test_export_holds_no_trace_of_a_legal_request_under_a_non_disclosure_order(
    make_user: Any,
) -> None:
    person, _counsel, _request = _gagged_release(make_user)
    assert list(sharing.visible_disclosures(person)) == []  # the sharing app hides it

    rows = list(profile.export_audit_events(person))

    assert [r["event"] for r in rows if r["event"].startswith("share:")] == []
    text = repr(rows)
    assert "2026/117" not in text  # the order's reference (the release's sealed note)
    assert "legal_request" not in text


def test_export_shows_the_legal_request_once_the_order_is_lifted(make_user: Any) -> None:
    person, counsel, request = _gagged_release(make_user)
    sharing.change_order(request, review_date=None, staff=counsel, actor=actor_of(counsel))

    events = {r["event"] for r in profile.export_audit_events(person)}

    assert {"share:legal:recorded", "share:released", "share:legal:order-changed"} <= events
