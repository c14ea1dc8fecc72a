"""The vault's errors. Messages name tables, columns and row ids, never a value."""


class VaultError(Exception):
    """Base class."""


class VaultConfigError(VaultError):
    """The master key or key store is missing or unusable."""


class VaultIntegrityError(VaultError):
    """A ciphertext failed authentication: it was altered, moved to another row or
    column, or replayed from an older version of the row."""


class KeyShredded(VaultError):  # a domain condition, not a crash
    """The data key was destroyed: the values under it can never be read again."""


class UnsafeWrite(VaultError):  # a domain condition
    """Personal data was written around the model (``QuerySet.update``, ``bulk_create``),
    where it cannot be encrypted and bound to its row."""
