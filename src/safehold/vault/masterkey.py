"""The master key: the root of the key hierarchy, held outside the database.

Swappable: ``SAFEHOLD_MASTER_KEY_PROVIDER`` names a class implementing
``MasterKeyProvider``; the default reads 32 bytes (base64) from ``SAFEHOLD_MASTER_KEY``
or the file ``master.key`` in the data directory. A KMS or HSM provider would send
``wrap``/``unwrap`` to the device and never expose the key.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils.module_loading import import_string

from safehold.vault.exceptions import VaultConfigError, VaultIntegrityError

NONCE_BYTES = 12


class MasterKeyProvider(Protocol):
    def wrap(self, plaintext: bytes, *, context: bytes) -> bytes:
        """Encrypt and authenticate ``plaintext``, bound to ``context``."""

    def unwrap(self, wrapped: bytes, *, context: bytes) -> bytes:
        """Reverse ``wrap``.

        Raises ``VaultIntegrityError`` if it was altered or the context differs.
        """


class LocalMasterKey:
    """AES-256-GCM under a key from the environment or the data directory's key file."""

    def __init__(self, key: bytes | None = None) -> None:
        self._aead = AESGCM(key if key is not None else self._load())

    @staticmethod
    def _load() -> bytes:
        encoded = os.environ.get("SAFEHOLD_MASTER_KEY", "").strip()
        source = "SAFEHOLD_MASTER_KEY"
        if not encoded:
            path = settings.DATA_DIR / "master.key"
            source = str(path)
            try:
                encoded = path.read_text().strip()
            except FileNotFoundError:
                raise VaultConfigError(
                    f"no master key: {path} is missing and SAFEHOLD_MASTER_KEY is not set"
                ) from None
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise VaultConfigError(f"the master key in {source} is not base64") from None
        if len(key) != 32:
            raise VaultConfigError(f"the master key in {source} must be 32 bytes, not {len(key)}")
        return key

    def wrap(self, plaintext: bytes, *, context: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def unwrap(self, wrapped: bytes, *, context: bytes) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], context)
        except InvalidTag:
            raise VaultIntegrityError(
                "a key wrapped by the master key failed authentication "
                "(wrong master key, or the key store was altered)"
            ) from None


@functools.cache
def get_master_key_provider() -> MasterKeyProvider:
    return import_string(settings.SAFEHOLD_MASTER_KEY_PROVIDER)()  # a configured class
