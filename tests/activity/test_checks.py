"""The promise checks find what they promise against, and hold when it is kept."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from safehold.activity import services
from safehold.activity.models import Device, Payment
from safehold.core import promises
from safehold.core.promises import Status

pytestmark = pytest.mark.django_db


def _run(promise_id: str) -> promises.Result:
    check = promises.get(promise_id)
    assert check is not None
    return check.run()


def _payment(alice, **fields) -> Payment:  # type: ignore[no-untyped-def]
    values = {
        "user": alice,
        "created_at": timezone.now(),
        "amount_minor": 100,
        "currency": "EUR",
        "status": "succeeded",
        "processor": "local-test",
        "token": "tok_abc",
        "brand": "visa",
        "last4": "4242",
    }
    values.update(fields)
    payment = Payment(**values)
    payment.save()
    return payment


def test_no_card_number_holds_and_finds_a_stored_number(alice) -> None:
    _payment(alice)
    result = _run("payments-no-card-number")
    assert result.status == Status.HOLDS, result.detail
    Payment.objects.update(decline_code="4242 4242 4242 4242")  # a plain column
    assert _run("payments-no-card-number").status == Status.BROKEN
    Payment.objects.update(decline_code="")
    _payment(alice, token="tok_4000000000000002")  # a sealed column
    assert _run("payments-no-card-number").status == Status.BROKEN


def test_no_card_number_finds_more_than_four_digits(alice) -> None:
    _payment(alice, last4="424")
    assert _run("payments-no-card-number").status == Status.BROKEN


def test_device_data_encrypted_holds_and_finds_plain_text(alice) -> None:
    services.record_access(
        alice, kind="sign-in", client={"browser": "Firefox", "os": "", "ip": "", "place": ""}
    )
    device = Device(
        user=alice,
        token_hash="1" * 64,
        browser="Firefox",
        os="Linux",
        ip_address="192.0.2.4",
        first_seen_at=timezone.now(),
        last_seen_at=timezone.now(),
    )
    device.save()
    result = _run("device-data-encrypted")
    assert result.status == Status.HOLDS, result.detail
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE activity_device SET browser = %s WHERE id = %s", [b"Firefox 133", device.pk]
        )
    assert _run("device-data-encrypted").status == Status.BROKEN
