"""A withdrawal and a share at the same moment: the share never slips through after the
withdrawal committed (PostgreSQL, two connections)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from safehold.audit.services import Actor
from safehold.sharing import services
from safehold.sharing.models import Disclosure


@pytest.mark.django_db(transaction=True)
def test_a_share_waits_for_a_withdrawal_in_progress(person, delivery) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks between connections are tested on PostgreSQL")
    services.set_consent(person, delivery, grant=True, actor=Actor.system())
    withdrawing = threading.Event()
    outcome: list[object] = []

    def withdraw() -> None:
        try:
            with transaction.atomic():
                services.set_consent(person, delivery, grant=False, actor=Actor.system())
                withdrawing.set()
                time.sleep(1.0)  # the share arrives while this is not committed yet
        finally:
            connections.close_all()

    def share() -> None:
        try:
            withdrawing.wait(10)
            outcome.append(
                services.request_share(
                    recipient="fastpost",
                    person=person,
                    categories=["name"],
                    purpose="delivery",
                    basis="consent",
                    justification="",
                    actor=Actor.system(),
                )
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=withdraw), threading.Thread(target=share)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    (result,) = outcome
    assert isinstance(result, services.Refusal)
    assert result.reason == "consent_withdrawn"
    assert Disclosure.objects.count() == 0
