"""allauth's MFA adapter, with the TOTP secrets and recovery-code seeds encrypted at rest."""

from __future__ import annotations

import base64
import os

from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from safehold.vault import keys
from safehold.vault.exceptions import VaultIntegrityError

_PREFIX = "v1:"
_CONTEXT = b"safehold/mfa-secret"


class MFAAdapter(DefaultMFAAdapter):
    """allauth stores authenticator secrets in its own table; they are sealed here with an
    installation key from the vault (not a person's key: a second factor must keep
    working until the person removes it)."""

    def _aead(self) -> AESGCM:
        return AESGCM(keys.system_secret("mfa-secrets-v1"))

    def encrypt(self, text: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead().encrypt(nonce, text.encode(), _CONTEXT)
        return _PREFIX + base64.b64encode(nonce + sealed).decode()

    def decrypt(self, encrypted_text: str) -> str:
        if not encrypted_text.startswith(_PREFIX):
            # Every secret is sealed on write: an unsealed one was put there around us.
            raise VaultIntegrityError("an MFA secret is not sealed")
        raw = base64.b64decode(encrypted_text[len(_PREFIX) :])
        try:
            return self._aead().decrypt(raw[:12], raw[12:], _CONTEXT).decode()
        except InvalidTag:
            raise VaultIntegrityError("an MFA secret failed authentication") from None
