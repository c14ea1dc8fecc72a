"""The checkpoint signing key (Ed25519) and the signed checkpoint text.

The key lives in the data directory (``audit-signing.key``, mode 0600), created on
first use. A checkpoint is printed as a small signed note that an operator can publish
outside the database:

    safehold audit log SMM
    1234
    <base64 root hash>
    2026-11-24T22:00:00.000000+00:00

    — safehold-audit <key id> <base64 signature>
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

from safehold import conf

KEY_FILE = "audit-signing.key"
SIGNATURE_LINE = "— safehold-audit"


class CheckpointFormatError(ValueError):
    """A published checkpoint could not be read."""


def _public_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id_of(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(_public_raw(public)).hexdigest()[:16]


@functools.cache
def signing_key() -> Ed25519PrivateKey:
    """``SAFEHOLD_AUDIT_SIGNING_KEY`` (base64 of the 32-byte Ed25519 seed; the same on every
    app server), else ``audit-signing.key`` in the data directory, made on first use."""
    from_env = os.environ.get("SAFEHOLD_AUDIT_SIGNING_KEY", "").strip()
    if from_env:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(from_env))
    path = settings.DATA_DIR / KEY_FILE
    conf._write_private_file(
        path, base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()) + b"\n"
    )
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(path.read_text().strip()))


def public_key() -> Ed25519PublicKey:
    return signing_key().public_key()


def public_key_text(public: Ed25519PublicKey | None = None) -> str:
    return base64.b64encode(_public_raw(public or public_key())).decode()


def load_public_key(text: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text.strip(), validate=True))
    except ValueError as exc:
        raise CheckpointFormatError("not an Ed25519 public key (32 bytes, base64)") from exc


def origin() -> str:
    return f"safehold audit log {settings.SAFEHOLD_OPERATOR_NAME}"


def checkpoint_body(
    size: int, root: bytes, created_at: datetime, origin_line: str | None = None
) -> bytes:
    return (
        f"{origin_line or origin()}\n{size}\n{base64.b64encode(root).decode()}\n"
        f"{created_at.isoformat(timespec='microseconds')}\n"
    ).encode()


def sign(body: bytes) -> tuple[str, bytes]:
    key = signing_key()
    return key_id_of(key.public_key()), key.sign(body)


def verify_signature(body: bytes, signature: bytes, public: Ed25519PublicKey | None = None) -> bool:
    try:
        (public or public_key()).verify(signature, body)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class PublishedCheckpoint:
    origin: str
    size: int
    root: bytes
    created_at: str
    key_id: str
    signature: bytes

    @property
    def body(self) -> bytes:
        root = base64.b64encode(self.root).decode()
        return f"{self.origin}\n{self.size}\n{root}\n{self.created_at}\n".encode()

    def text(self) -> str:
        return (
            self.body.decode()
            + f"\n{SIGNATURE_LINE} {self.key_id} {base64.b64encode(self.signature).decode()}\n"
        )


def parse_checkpoint(text: str) -> PublishedCheckpoint:
    """Read a checkpoint as ``safehold audit checkpoint`` prints it."""
    lines = text.strip("\n").split("\n")
    try:
        origin_line, size, root, created_at, blank, signature_line = lines
        if blank != "" or not signature_line.startswith(SIGNATURE_LINE + " "):
            raise ValueError
        key_id, signature = signature_line[len(SIGNATURE_LINE) + 1 :].split(" ")
        return PublishedCheckpoint(
            origin_line,
            int(size),
            base64.b64decode(root, validate=True),
            created_at,
            key_id,
            base64.b64decode(signature, validate=True),
        )
    except ValueError:
        raise CheckpointFormatError(
            "not a safehold audit checkpoint (6 lines, as printed by `safehold audit checkpoint`)"
        ) from None
