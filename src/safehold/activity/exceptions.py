"""The activity app's domain errors."""

from __future__ import annotations


class ActivityError(Exception):
    """Base class."""


class InvalidCard(ActivityError):
    """Card details that cannot be right; ``code`` names the part (never the value).

    Codes: ``number`` (length or check digit), ``brand`` (not a card number any
    processor knows), ``expiry`` (past or impossible), ``cvc`` (wrong length).
    """

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class PaymentUnavailable(ActivityError):
    """The processor could not be reached or failed; nothing was charged or stored."""


class UnknownCurrency(ActivityError):
    """A currency this server does not accept payments in."""


class DeviceNotFound(ActivityError):
    """No such device among the person's devices (or it was forgotten meanwhile)."""
