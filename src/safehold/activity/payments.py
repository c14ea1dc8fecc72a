"""Payment processors: the swappable part that turns card details into a charge.

Safehold never keeps card data. A view hands the card to the configured processor
(``SAFEHOLD_PAYMENT_PROCESSOR``, a dotted path to a class implementing
``PaymentProcessor``; ``get_payment_processor()`` returns one), which gives back a
token, the card's brand and last four digits and whether the charge went through.
Only those, with the amount, currency, status and time, are stored.

``LocalTestProcessor`` is the built-in implementation: it charges nothing, checks the
number as a real processor would (length, Luhn check digit, brand, expiry, security
code) and declines the test numbers in ``TEST_DECLINES``. A real processor's adapter
implements the same protocol and passes the same contract tests
(``tests/activity/test_processors.py``).
"""

from __future__ import annotations

import functools
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar, Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.debug import sensitive_variables

from safehold.activity.exceptions import InvalidCard


@dataclass(frozen=True)
class Card:
    """Card details as typed, on their way to a processor. Never stored, never shown.

    ``repr`` shows only the last four digits, so a card cannot reach a log line or an
    error page through a stray ``%r``.
    """

    number: str = field(repr=False)
    exp_month: int = field(repr=False)
    exp_year: int = field(repr=False)  # four digits
    cvc: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Card(****{self.number[-4:]})"

    __str__ = __repr__


@dataclass(frozen=True)
class Charge:
    """A processor's answer: what Safehold may keep of the card, and the outcome.

    ``succeeded`` False means the card was declined (``decline_code`` says why, a short
    code such as ``card_declined`` or ``insufficient_funds``); a malformed card raises
    ``InvalidCard`` instead and no charge is attempted.
    """

    token: str
    brand: str
    last4: str
    succeeded: bool
    decline_code: str = ""


class PaymentProcessor(Protocol):
    """Charges a card. Implementations are stateless between calls and thread-safe.

    ``name`` is stored with each payment. ``charge`` must: raise ``InvalidCard`` with a
    stable ``code`` for a number, expiry or security code that cannot be right; give a
    token that does not contain the card number; charge at most once per
    ``idempotency_key``. ``amount_minor`` is in the currency's minor units.
    ``test_cards`` names, for the contract tests, a number it accepts (``"ok"``) and
    one it declines (``"decline"``).
    """

    name: str
    test_cards: ClassVar[dict[str, str]]

    def charge(
        self, card: Card, *, amount_minor: int, currency: str, idempotency_key: str
    ) -> Charge: ...


# --- card checks shared by processors -----------------------------------------------------------

_BRANDS: tuple[tuple[str, re.Pattern[str], tuple[int, ...], int], ...] = (
    # brand, prefix pattern, valid lengths, security code length
    ("amex", re.compile(r"3[47]"), (15,), 4),
    ("visa", re.compile(r"4"), (13, 16, 19), 3),
    ("mastercard", re.compile(r"5[1-5]|2(2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)"), (16,), 3),
    ("discover", re.compile(r"6011|65|64[4-9]"), (16, 19), 3),
    ("jcb", re.compile(r"35(2[89]|[3-8]\d)"), (16, 17, 18, 19), 3),
    ("unionpay", re.compile(r"62"), (16, 17, 18, 19), 3),
    ("diners", re.compile(r"3(0[0-5]|[689])"), (14, 16, 19), 3),
)

BRAND_NAMES = {
    "amex": "American Express",
    "visa": "Visa",
    "mastercard": "Mastercard",
    "discover": "Discover",
    "jcb": "JCB",
    "unionpay": "UnionPay",
    "diners": "Diners Club",
}


@sensitive_variables("number", "digits")
def luhn_valid(number: str) -> bool:
    """Whether ``number`` (digits only) has a right Luhn check digit."""
    if not number.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


@sensitive_variables("number")
def card_brand(number: str) -> tuple[str, tuple[int, ...], int] | None:
    """(brand, valid lengths, security-code length) for a number's prefix, or None."""
    for brand, prefix, lengths, cvc_length in _BRANDS:
        if prefix.match(number):
            return brand, lengths, cvc_length
    return None


@sensitive_variables("card", "number")
def check_card(card: Card, *, today: date | None = None) -> str:
    """The card's brand, or ``InvalidCard`` naming what is wrong (never echoing it)."""
    number = card.number
    if not number.isdigit() or not 12 <= len(number) <= 19:
        raise InvalidCard("number")
    if not luhn_valid(number):
        raise InvalidCard("number")
    described = card_brand(number)
    if described is None:
        raise InvalidCard("brand")
    brand, lengths, cvc_length = described
    if len(number) not in lengths:
        raise InvalidCard("number")
    today = today or timezone.now().date()
    if not 1 <= card.exp_month <= 12 or (card.exp_year, card.exp_month) < (today.year, today.month):
        raise InvalidCard("expiry")
    if card.exp_year > today.year + 20:
        raise InvalidCard("expiry")
    if not card.cvc.isdigit() or len(card.cvc) != cvc_length:
        raise InvalidCard("cvc")
    return brand


class LocalTestProcessor:
    """A processor that runs on this server and moves no money: for tests and demos.

    Accepts any well-formed card except the decline numbers below. The token is
    ``tok_`` and 24 random hex digits: it says nothing about the card. Charges are
    idempotent per key (the last ``REMEMBERED`` keys of this process).
    """

    name = "local-test"
    #: Test numbers that are declined, and why (as a real processor's test mode does).
    TEST_DECLINES: ClassVar[dict[str, str]] = {
        "4000000000000002": "card_declined",
        "4000000000009995": "insufficient_funds",
        "4000000000000069": "expired_card",
        "5105105105105100": "card_declined",
    }
    REMEMBERED = 10_000  # idempotency keys kept (per process)
    test_cards: ClassVar[dict[str, str]] = {
        "ok": "4242424242424242",
        "decline": "4000000000000002",
    }

    def __init__(self) -> None:
        self._done: OrderedDict[str, Charge] = OrderedDict()
        self._lock = threading.Lock()

    @sensitive_variables("card")
    def charge(
        self, card: Card, *, amount_minor: int, currency: str, idempotency_key: str
    ) -> Charge:
        if amount_minor <= 0:
            raise ValueError("amount_minor must be positive")
        brand = check_card(card)
        with self._lock:
            done = self._done.get(idempotency_key)
            if done is not None:
                return done
            decline = self.TEST_DECLINES.get(card.number, "")
            result = Charge(
                token=f"tok_{secrets.token_hex(12)}",
                brand=brand,
                last4=card.number[-4:],
                succeeded=not decline,
                decline_code=decline,
            )
            self._done[idempotency_key] = result
            while len(self._done) > self.REMEMBERED:
                self._done.popitem(last=False)
        return result


@functools.cache
def _processor(path: str) -> PaymentProcessor:
    return import_string(path)()  # a configured class


def get_payment_processor() -> PaymentProcessor:
    """The configured processor (``SAFEHOLD_PAYMENT_PROCESSOR``), one instance per process."""
    return _processor(settings.SAFEHOLD_PAYMENT_PROCESSOR)
