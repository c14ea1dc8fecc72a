"""Domain errors of the accounts app; the web layer turns each into a clear message."""


class AccountsError(Exception):
    """Base class."""


class HintRevealsPassword(AccountsError):  # a domain condition, not a crash
    """The password hint contains the password or is too close to it."""


class WrongPassword(AccountsError):  # a domain condition
    """The current password given to confirm a change was not right."""


class TooManyAttempts(AccountsError):  # a domain condition
    """Too many password checks for this account in a short time."""
