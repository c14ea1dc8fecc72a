"""The backup file format: a compressed tar stream, encrypted in authenticated chunks.

Layout (all integers big-endian)::

    header   b"SAFEHOLD-BACKUP" 0x01       16 bytes: magic and format version
             backup id                     16 random bytes
             u16 length, wrapped file key  the file key, wrapped by the master key
    payload  chunks: u32 length, 12-byte nonce, AES-256-GCM ciphertext and tag
             (associated data: backup id, u64 chunk index, u8 final flag)
    trailer  manifest (JSON, UTF-8), u32 its length,
             HMAC-SHA256 of header + manifest (32 bytes), b"SHBKEND1"

The file key is random per backup and wrapped by the master key provider (so a KMS
provider works, and a new machine given the same master key can read the file);
the chunk key and the manifest's MAC key are derived from it with HKDF. A changed
chunk fails its tag; a reordered, dropped or appended chunk fails the index or the
final flag; a cut file has no trailer; a changed manifest fails the MAC; and the
manifest carries the SHA-256 of the payload, checked before anything is opened.
The manifest (times, versions, table names and row counts) is authenticated but
not encrypted: it holds no personal data, and ``--verify`` reads it first.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from safehold.ops.exceptions import BackupError

MAGIC = b"SAFEHOLD-BACKUP\x01"
END = b"SHBKEND1"
CHUNK_BYTES = 1024 * 1024
NONCE_BYTES = 12
TAG_BYTES = 16
MAC_BYTES = 32
_TRAILER_FIXED = 4 + MAC_BYTES + len(END)
_MAX_MANIFEST = 16 * 1024 * 1024


def _wrap_context(backup_id: bytes) -> bytes:
    return b"safehold/backup/v1/" + backup_id


def _derive(file_key: bytes, backup_id: bytes, purpose: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=backup_id, info=b"safehold backup " + purpose
    ).derive(file_key)


def _aad(backup_id: bytes, index: int, final: bool) -> bytes:
    return backup_id + struct.pack(">QB", index, 1 if final else 0)


def _master() -> Any:
    from safehold.vault.masterkey import get_master_key_provider

    return get_master_key_provider()


class EncryptingWriter:
    """A write-only file object: what is written is encrypted in chunks to ``out``.

    ``close()`` writes the final chunk and returns nothing; ``finish(manifest)``
    then writes the trailer. ``payload_sha256`` and ``payload_bytes`` describe the
    chunk region as written.
    """

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.backup_id = os.urandom(16)
        file_key = AESGCM.generate_key(bit_length=256)
        wrapped = _master().wrap(file_key, context=_wrap_context(self.backup_id))
        self.header = MAGIC + self.backup_id + struct.pack(">H", len(wrapped)) + wrapped
        self._aead = AESGCM(_derive(file_key, self.backup_id, b"chunks"))
        self._mac_key = _derive(file_key, self.backup_id, b"manifest")
        out.write(self.header)
        self._buffer = bytearray()
        self._index = 0
        self._hash = hashlib.sha256()
        self.payload_bytes = 0
        self.closed = False

    # The file-object interface tarfile needs.
    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) >= CHUNK_BYTES:
            self._emit(bytes(self._buffer[:CHUNK_BYTES]), final=False)
            del self._buffer[:CHUNK_BYTES]
        return len(data)

    def flush(self) -> None:
        pass

    def _emit(self, plaintext: bytes, *, final: bool) -> None:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, _aad(self.backup_id, self._index, final))
        record = struct.pack(">I", len(sealed)) + nonce + sealed
        self.out.write(record)
        self._hash.update(record)
        self.payload_bytes += len(record)
        self._index += 1

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self._buffer), final=True)
            self._buffer.clear()
            self.closed = True

    @property
    def payload_sha256(self) -> str:
        return self._hash.hexdigest()

    @property
    def chunks(self) -> int:
        return self._index

    def finish(self, manifest: dict[str, Any]) -> None:
        body = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
        mac = hmac.new(self._mac_key, self.header + body, hashlib.sha256).digest()
        self.out.write(body + struct.pack(">I", len(body)) + mac + END)


@dataclass
class OpenedBackup:
    """A backup file whose header and manifest have been authenticated."""

    path: str
    backup_id: bytes
    manifest: dict[str, Any]
    payload_start: int
    payload_end: int
    _aead: AESGCM

    def check_checksum(self) -> None:
        """Raise ``BackupError`` unless the payload's SHA-256 is the manifest's."""
        digest = hashlib.sha256()
        with open(self.path, "rb") as handle:
            handle.seek(self.payload_start)
            remaining = self.payload_end - self.payload_start
            while remaining:
                block = handle.read(min(remaining, CHUNK_BYTES))
                if not block:
                    raise BackupError("the backup is truncated")
                digest.update(block)
                remaining -= len(block)
        if not hmac.compare_digest(digest.hexdigest(), self.manifest["payload"]["sha256"]):
            raise BackupError(
                "the backup's checksum does not match its manifest: the file was damaged"
            )

    def plaintext(self) -> Iterator[bytes]:
        """The decrypted payload, chunk by chunk; raises ``BackupError`` on any damage."""
        with open(self.path, "rb") as handle:
            handle.seek(self.payload_start)
            position = self.payload_start
            index = 0
            while True:
                if position + 4 > self.payload_end:
                    raise BackupError("the backup is truncated: its last chunk is missing")
                (length,) = struct.unpack(">I", handle.read(4))
                position += 4
                if length < TAG_BYTES or position + NONCE_BYTES + length > self.payload_end:
                    raise BackupError("the backup is damaged: a chunk has an impossible length")
                nonce = handle.read(NONCE_BYTES)
                sealed = handle.read(length)
                position += NONCE_BYTES + length
                final = position == self.payload_end
                try:
                    data = self._aead.decrypt(nonce, sealed, _aad(self.backup_id, index, final))
                except InvalidTag:
                    raise BackupError(
                        f"the backup is damaged: chunk {index} failed authentication"
                    ) from None
                yield data
                index += 1
                if final:
                    return


class DecryptingReader:
    """A read-only file object over ``OpenedBackup.plaintext()`` (for tarfile's stream mode)."""

    def __init__(self, backup: OpenedBackup) -> None:
        self._chunks = backup.plaintext()
        self._buffer = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buffer) < size):
            try:
                self._buffer += next(self._chunks)
            except StopIteration:
                self._done = True
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def open_backup(path: str) -> OpenedBackup:
    """Read and authenticate a backup's header and manifest.

    Raises ``BackupError`` with a one-line reason: not a backup, truncated, made
    under another master key, or a manifest that was altered.
    """
    from safehold.vault.exceptions import VaultError

    try:
        size = os.path.getsize(path)
        handle = open(path, "rb")  # noqa: SIM115  # closed below
    except FileNotFoundError:
        raise BackupError(f"no such file: {path}") from None
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        magic = handle.read(len(MAGIC))
        if magic != MAGIC:
            if magic[:15] == MAGIC[:15]:
                raise BackupError("this backup was written in a format this version cannot read")
            raise BackupError(f"{path} is not a Safehold backup")
        backup_id = handle.read(16)
        raw_length = handle.read(2)
        if len(backup_id) != 16 or len(raw_length) != 2:
            raise BackupError("the backup is truncated")
        (wrapped_length,) = struct.unpack(">H", raw_length)
        wrapped = handle.read(wrapped_length)
        if len(wrapped) != wrapped_length:
            raise BackupError("the backup is truncated")
        header = MAGIC + backup_id + raw_length + wrapped
        if size < len(header) + _TRAILER_FIXED:
            raise BackupError("the backup is truncated: its manifest is missing")
        handle.seek(size - _TRAILER_FIXED)
        tail = handle.read(_TRAILER_FIXED)
        if tail[-len(END) :] != END:
            raise BackupError("the backup is truncated: its manifest is missing")
        (manifest_length,) = struct.unpack(">I", tail[:4])
        mac = tail[4 : 4 + MAC_BYTES]
        payload_end = size - _TRAILER_FIXED - manifest_length
        if manifest_length > _MAX_MANIFEST or payload_end < len(header):
            raise BackupError("the backup is damaged: its manifest has an impossible length")
        handle.seek(payload_end)
        body = handle.read(manifest_length)
    try:
        file_key = _master().unwrap(wrapped, context=_wrap_context(backup_id))
    except VaultError:
        raise BackupError(
            "the backup's key cannot be unwrapped with this installation's master key "
            "(wrong master key, or a damaged header)"
        ) from None
    mac_key = _derive(file_key, backup_id, b"manifest")
    if not hmac.compare_digest(hmac.new(mac_key, header + body, hashlib.sha256).digest(), mac):
        raise BackupError("the backup's manifest failed authentication: it was altered or damaged")
    manifest = json.loads(body)
    if manifest.get("payload", {}).get("bytes") != payload_end - len(header):
        raise BackupError("the backup is truncated or padded: its size does not match the manifest")
    return OpenedBackup(
        path=path,
        backup_id=backup_id,
        manifest=manifest,
        payload_start=len(header),
        payload_end=payload_end,
        _aead=AESGCM(_derive(file_key, backup_id, b"chunks")),
    )
