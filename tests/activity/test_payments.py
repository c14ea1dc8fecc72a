"""Payments through the page: only token, brand and last four are kept, never the card."""

from __future__ import annotations

import logging
import re

import pytest
from django.db import connection
from django.test import Client
from django.views.debug import ExceptionReporter

from safehold.activity import services
from safehold.activity.models import Payment
from safehold.audit.models import Event
from safehold.core import registry

pytestmark = pytest.mark.django_db

CARD = "4242424242424242"
CARD_SPACED = "4242 4242 4242 4242"
DECLINED = "4000000000000002"
CVC = "987"


def _form_key(client: Client) -> str:
    page = client.get("/account/payments/new/").content.decode()
    match = re.search(r'name="form_key" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def _pay(client: Client, number: str = CARD_SPACED, **extra: str):  # type: ignore[no-untyped-def]
    data = {
        "amount": "12.50",
        "currency": "EUR",
        "card_number": number,
        "expiry": "12/39",
        "cvc": "123",
        "form_key": _form_key(client),
    }
    data.update(extra)
    return client.post("/account/payments/new/", data)


def _database_bytes() -> bytes:
    """Everything the database holds: the SQLite file image, or a COPY of every table."""
    if connection.vendor == "sqlite":
        raw = connection.connection
        if raw is None:
            connection.ensure_connection()
            raw = connection.connection
        return bytes(raw.serialize())  # type: ignore[union-attr]  # sqlite3.Connection
    chunks: list[bytes] = []
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        for table in tables:
            name = connection.ops.quote_name(table)
            sql = f"COPY (SELECT * FROM {name}) TO STDOUT"  # noqa: S608  # quoted table names
            with cursor.cursor.copy(sql) as copy:  # type: ignore[attr-defined]  # psycopg 3
                for block in copy:
                    chunks.append(bytes(block))
    return b"".join(chunks)


def _digits_forms(number: str) -> list[bytes]:
    spaced = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    return [number.encode(), spaced.encode(), number.encode("utf-16-le")]


def test_a_card_number_reaches_neither_the_database_nor_the_logs(
    alice, client, sign_in, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    caplog.set_level(logging.DEBUG, logger="django.request")
    connection.force_debug_cursor = True  # even the SQL log (DEBUG) is captured
    try:
        sign_in(client)
        response = _pay(client)
        assert response.status_code == 302
        bad = _pay(client, number="4242424242424241")  # a wrong check digit: a form error
        assert bad.status_code == 400
        assert b"4242424242424241" not in bad.content  # never echoed back into the page
        assert b"That card number is not valid" in bad.content
    finally:
        connection.force_debug_cursor = False
    payment = Payment.objects.get(user=alice)
    assert payment.status == "succeeded"
    assert (payment.brand, payment.last4, payment.amount_minor, payment.currency) == (
        "visa",
        "4242",
        1250,
        "EUR",
    )
    assert payment.token.startswith("tok_")
    assert CARD not in payment.token
    assert Event.objects.filter(event_type="payment:succeeded", subject_id=str(alice.pk)).exists()

    stored = _database_bytes()
    assert len(stored) > 10_000  # it really is the database
    for needle in (*_digits_forms(CARD), b"4242424242424241", b"12/39"):
        assert needle not in stored, needle
    logged = "\n".join(
        f"{r.getMessage()} {r.exc_text or ''} {r.__dict__!r}" for r in caplog.records
    )
    assert "INSERT INTO" in logged  # the SQL log was on
    for needle in (CARD, CARD_SPACED, "4242424242424241"):
        assert needle not in logged


def test_a_declined_card_is_recorded_as_declined(alice, client, sign_in) -> None:
    sign_in(client)
    response = _pay(client, number=DECLINED)
    assert response.status_code == 302
    follow = client.get(response["Location"]).content.decode()
    assert "Your card was declined" in follow
    assert "Declined" in follow
    payment = Payment.objects.get(user=alice)
    assert (payment.status, payment.decline_code, payment.last4) == (
        "declined",
        "card_declined",
        "0002",
    )
    assert Event.objects.filter(event_type="payment:declined").count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"card_number": "12345"}, "12 to 19 digits"),
        ({"card_number": "9999999999999995"}, "not one we can take"),
        ({"expiry": "01/20"}, "expiry date has passed"),
        ({"expiry": "13/30"}, "as MM/YY"),
        ({"cvc": "12"}, "3 or 4 digit"),
        ({"cvc": "1234"}, "security code is not valid"),
        ({"amount": "0"}, "greater than or equal to 0.01"),
        ({"amount": "1000000"}, "The most you can pay"),
        ({"currency": "JPY", "amount": "10.5"}, "JPY amounts have no decimal places"),
        ({"currency": "XXX"}, "Select a valid choice"),
    ],
)
def test_bad_input_gets_a_clear_error_and_charges_nothing(
    alice, client, sign_in, fields, message
) -> None:
    sign_in(client)
    response = _pay(client, **fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Payment.objects.exists()


def test_submitting_the_same_form_twice_charges_once(alice, client, sign_in) -> None:
    sign_in(client)
    key = _form_key(client)
    data = {
        "amount": "5",
        "currency": "GBP",
        "card_number": CARD,
        "expiry": "12/39",
        "cvc": "123",
        "form_key": key,
    }
    assert client.post("/account/payments/new/", data).status_code == 302
    assert client.post("/account/payments/new/", data).status_code == 302
    assert Payment.objects.filter(user=alice).count() == 1


def test_payments_are_listed_in_the_account_centre(alice, client, sign_in) -> None:
    sign_in(client)
    _pay(client, amount="1234.5")
    _pay(client, number="5555555555554444", currency="JPY", amount="700")
    page = client.get("/account/payments/").content.decode()
    assert "1,234.50 EUR" in page
    assert "700 JPY" in page
    assert "VISA ending 4242" in page
    assert "MASTERCARD ending 4444" in page


class ExplodingProcessor:
    name = "exploding"
    test_cards = {"ok": CARD, "decline": DECLINED}  # a test double's constant

    def charge(self, card, *, amount_minor, currency, idempotency_key):  # type: ignore[no-untyped-def]
        raise RuntimeError(f"processor down while charging {card.number}")


def test_a_processor_failure_is_a_clear_error_and_stores_nothing(
    alice, client, sign_in, settings, caplog
) -> None:
    settings.SAFEHOLD_PAYMENT_PROCESSOR = "tests.activity.test_payments.ExplodingProcessor"
    sign_in(client)
    response = _pay(client, number=CARD)
    assert response.status_code == 400
    assert "Payments are not available just now" in response.content.decode()
    assert not Payment.objects.exists()
    assert all(CARD not in r.getMessage() for r in caplog.records)


def test_an_error_report_of_the_payment_view_hides_the_card(alice, rf, monkeypatch) -> None:
    """Django's technical error page (DEBUG) hides the POST's card fields and the view's
    card variables."""
    from safehold.activity import views

    request = rf.post(
        "/account/payments/new/",
        {
            "amount": "1",
            "currency": "EUR",
            "card_number": CARD,
            "expiry": "12/39",
            "cvc": CVC,
            "form_key": "k" * 20,
        },
    )
    request.user = alice
    request.session = {}  # type: ignore[assignment]
    request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "make_payment", explode)
    with pytest.raises(RuntimeError) as caught:
        views.new_payment(request)
    report = ExceptionReporter(request, caught.type, caught.value, caught.tb).get_traceback_html()
    assert "card_number" in report  # the field is listed ...
    assert CARD not in report  # ... but its value is not
    assert f"'{CVC}'" not in report


def test_erasure_minimises_payments_and_keeps_the_accounting(alice, client, sign_in) -> None:
    sign_in(client)
    _pay(client)
    payment = Payment.objects.get(user=alice)
    eraser = next(e for e in registry.erasers() if e.name == "payments")
    exporter = next(e for e in registry.exporters() if e.name == "payments")
    (row,) = exporter.rows(alice)
    assert row["card_last4"] == "4242"
    assert row["amount"] == "12.50"
    assert eraser.erase(alice) == 1
    kept = Payment.objects.get(pk=payment.pk)
    assert kept.user_id is None
    assert (kept.amount_minor, kept.currency, kept.status) == (1250, "EUR", "succeeded")
    assert kept.created_at == payment.created_at
    assert (kept.token, kept.brand, kept.last4) == (None, None, None)
    with connection.cursor() as cursor:
        cursor.execute("SELECT token, brand, last4 FROM activity_payment WHERE id = %s", [kept.pk])
        assert cursor.fetchone() == (None, None, None)
    assert list(exporter.rows(alice)) == []


def test_staff_see_payments_for_accounting_without_card_data(
    alice, client, sign_in, make_user
) -> None:
    sign_in(client)
    _pay(client)
    make_user("boss", is_staff=True, is_superuser=True)
    staff = sign_in(Client(), login="boss")
    page = staff.get("/admin/activity/payment/").content.decode()
    assert "12.50 EUR" in page
    assert "4242" not in page
    payment = Payment.objects.get()
    detail = staff.get(f"/admin/activity/payment/{payment.pk}/change/")
    assert detail.status_code == 200
    assert "4242" not in detail.content.decode()
    assert payment.token not in detail.content.decode()
    assert staff.post("/admin/activity/payment/add/").status_code == 403


def test_a_refused_post_logs_no_card_data(alice, sign_in, caplog) -> None:
    """A payment refused by the CSRF check (a stale page) logs nothing of what it carried."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.request")
    caplog.set_level(logging.DEBUG, logger="django.security")
    client = sign_in(Client())
    client.handler.enforce_csrf_checks = True  # from now on, as a browser with a stale page
    response = client.post(
        "/account/payments/new/",
        {"amount": "3", "currency": "EUR", "card_number": CARD, "expiry": "12/39", "cvc": "123"},
    )
    assert response.status_code == 403
    assert caplog.records  # the refusal was logged ...
    logged = "\n".join(f"{r.getMessage()} {r.__dict__!r}" for r in caplog.records)
    assert CARD not in logged  # ... without the card
    assert CARD.encode() not in response.content
