"""Sharing fixtures: recipients in the registry, and staff with the legal role."""

from __future__ import annotations

from typing import Any

import pytest

from safehold.audit.services import Actor
from safehold.sharing.models import Basis, Recipient, SharingPurpose
from tests.api.conftest import make_key  # noqa: F401  # the API key fixture
from tests.conftest import TEST_PASSWORD


@pytest.fixture
def courier(db) -> Recipient:  # type: ignore[no-untyped-def]
    """A consent-based recipient that may receive name, mailing address and phone."""
    recipient = Recipient.objects.create(
        slug="fastpost",
        name="FastPost Couriers",
        country="CN",
        contact="dpo@fastpost.example",
        basis=Basis.CONSENT,
        categories=["name", "mailing_address", "phone"],
    )
    SharingPurpose.objects.create(
        recipient=recipient, code="delivery", description="to deliver the goods you order"
    )
    return recipient


@pytest.fixture
def delivery(courier: Recipient) -> SharingPurpose:
    return courier.purposes.get(code="delivery")


@pytest.fixture
def fraud_desk(db) -> Recipient:  # type: ignore[no-untyped-def]
    """A recipient resting on the 'run and keep the site safe' exception."""
    recipient = Recipient.objects.create(
        slug="fraudwatch",
        name="FraudWatch Ltd",
        country="DE",
        basis=Basis.OPERATIONS,
        categories=["email", "username"],
    )
    SharingPurpose.objects.create(
        recipient=recipient, code="fraud", description="to stop fraudulent sign-ups"
    )
    return recipient


@pytest.fixture
def person(make_user):  # type: ignore[no-untyped-def]
    return make_user(
        "nadia", name="Nadia Kaur", phone="+447911123456", mailing_address="1 High St, Leeds"
    )


@pytest.fixture
def make_legal_staff(make_user):  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import Permission

    def make(username: str) -> Any:
        staff = make_user(username, is_staff=True)
        staff.user_permissions.add(Permission.objects.get(codename="approve_legal_request"))
        from safehold.accounts.models import User

        return User.objects.get(pk=staff.pk)  # a fresh object: permissions are cached

    return make


@pytest.fixture
def clerk(make_legal_staff):  # type: ignore[no-untyped-def]
    return make_legal_staff("clerk")


@pytest.fixture
def counsel(make_legal_staff):  # type: ignore[no-untyped-def]
    return make_legal_staff("counsel")


def actor_of(user: Any) -> Actor:
    from safehold.sharing.services import staff_actor

    return staff_actor(user)


def signed_in(client: Any, username: str) -> Any:
    response = client.post("/accounts/login/", {"login": username, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return client
