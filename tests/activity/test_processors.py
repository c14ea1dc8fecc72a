"""The contract every payment processor passes (add an implementation to PROCESSORS)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django.utils.module_loading import import_string

from safehold.activity.exceptions import InvalidCard
from safehold.activity.payments import (
    Card,
    PaymentProcessor,
    card_brand,
    check_card,
    get_payment_processor,
    luhn_valid,
)

PROCESSORS = ["safehold.activity.payments.LocalTestProcessor"]


@pytest.fixture(params=PROCESSORS)
def processor(request: pytest.FixtureRequest) -> PaymentProcessor:
    return import_string(request.param)()  # type: ignore[no-any-return]


def _card(number: str, *, cvc: str = "123", month: int = 12, year: int | None = None) -> Card:
    return Card(number=number, exp_month=month, exp_year=year or timezone.now().year + 3, cvc=cvc)


def test_an_accepted_card_gives_a_token_brand_and_last_four(processor: PaymentProcessor) -> None:
    number = processor.test_cards["ok"]
    charge = processor.charge(_card(number), amount_minor=100, currency="EUR", idempotency_key="a")
    assert charge.succeeded
    assert charge.decline_code == ""
    assert charge.last4 == number[-4:]
    assert charge.brand
    assert charge.token
    assert number not in charge.token
    assert number[-8:] not in charge.token
    other = processor.charge(_card(number), amount_minor=100, currency="EUR", idempotency_key="b")
    assert other.token != charge.token


def test_a_declined_card_says_why(processor: PaymentProcessor) -> None:
    number = processor.test_cards["decline"]
    charge = processor.charge(_card(number), amount_minor=100, currency="EUR", idempotency_key="c")
    assert not charge.succeeded
    assert charge.decline_code
    assert charge.last4 == number[-4:]


def test_the_same_key_charges_once(processor: PaymentProcessor) -> None:
    number = processor.test_cards["ok"]
    first = processor.charge(_card(number), amount_minor=100, currency="EUR", idempotency_key="d")
    again = processor.charge(_card(number), amount_minor=100, currency="EUR", idempotency_key="d")
    assert again == first


@pytest.mark.parametrize(
    ("number", "cvc", "month", "year_offset", "code"),
    [
        ("4242424242424241", "123", 12, 3, "number"),  # check digit
        ("42424242", "123", 12, 3, "number"),  # too short
        ("9999999999999995", "123", 12, 3, "brand"),
        ("4242424242424242", "123", 1, -1, "expiry"),
        ("4242424242424242", "123", 13, 3, "expiry"),
        ("4242424242424242", "12", 12, 3, "cvc"),
        ("378282246310005", "123", 12, 3, "cvc"),  # American Express: four digits
    ],
)
def test_malformed_cards_are_refused_with_a_code(
    processor: PaymentProcessor, number: str, cvc: str, month: int, year_offset: int, code: str
) -> None:
    card = Card(number=number, exp_month=month, exp_year=timezone.now().year + year_offset, cvc=cvc)
    with pytest.raises(InvalidCard) as caught:
        processor.charge(card, amount_minor=100, currency="EUR", idempotency_key=f"e{number}{cvc}")
    assert caught.value.code == code
    assert number not in str(caught.value)


def test_a_card_never_shows_its_number() -> None:
    card = _card("4242424242424242", cvc="321")
    for text in (repr(card), str(card), f"{card!r}", f"{[card]}"):
        assert "4242424242424242" not in text
        assert "321" not in text
        assert "4242" in text


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4242424242424242", "visa"),
        ("5555555555554444", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("378282246310005", "amex"),
        ("6011111111111117", "discover"),
        ("3566002020360505", "jcb"),
        ("6200000000000005", "unionpay"),
        ("36227206271667", "diners"),
    ],
)
def test_brands_and_luhn(number: str, brand: str) -> None:
    assert luhn_valid(number)
    assert not luhn_valid(number[:-1] + str((int(number[-1]) + 1) % 10))
    described = card_brand(number)
    assert described is not None
    assert described[0] == brand
    cvc = "1234" if brand == "amex" else "123"
    assert check_card(_card(number, cvc=cvc)) == brand


def test_the_configured_processor_is_loaded_by_its_dotted_path(settings) -> None:
    assert get_payment_processor().name == "local-test"
    settings.SAFEHOLD_PAYMENT_PROCESSOR = "tests.activity.test_payments.ExplodingProcessor"
    assert get_payment_processor().name == "exploding"
