"""The contact app's domain errors. The web layer turns each into a clear form message."""

from __future__ import annotations


class ContactRefused(Exception):
    """A message was not accepted; nothing was stored. Subclasses say why."""


class TooManyMessages(ContactRefused):
    """Too many messages from this network or this e-mail address in the current window."""

    def __init__(self, retry_after: int, *, per: str) -> None:
        super().__init__(f"rate limited per {per}; retry after {retry_after}s")
        self.retry_after = retry_after
        self.per = per  # "ip" or "email"


class NotAllowed(PermissionError):
    """The acting staff member lacks the permission this inbox action needs."""


class NoAddress(Exception):
    """A reply cannot be e-mailed: the message has no address any more (erased)."""
