"""Files sealed in chunks, so an archive of any size is written and read in flat memory.

The format is the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár, "Online
Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance", CRYPTO 2015), as
Tink's streaming AEAD and age use it, over AES-256-GCM from ``cryptography``::

    header  = MAGIC (4) | nonce prefix (7)
    chunk i = length (4, big-endian) | AES-GCM(key, prefix | i (4) | last (1), data, header | aad)

Each chunk (``CHUNK`` bytes of plaintext, the last one shorter) is authenticated on
its own; its nonce binds its position and whether it is the last, so chunks cannot
be reordered, dropped or cut off at the end without ``SealedFileError``. The key is
used for one file only (a fresh random key per export or spool).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"SHX1"
PREFIX_BYTES = 7
HEADER_BYTES = len(MAGIC) + PREFIX_BYTES
CHUNK = 1024 * 1024
_TAG = 16


class SealedFileError(Exception):
    """The file is not a sealed file, or was altered, reordered or cut short."""


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    if index >= 2**32:
        raise SealedFileError("too many chunks")
    return prefix + struct.pack(">IB", index, 1 if last else 0)


class SealingWriter:
    """A write-only binary stream that seals what is written to ``out`` in chunks.

    ``close()`` seals the last chunk (possibly empty) and must be called; it does not
    close ``out``. ``written`` counts plaintext bytes.
    """

    def __init__(self, out: BinaryIO, key: bytes, aad: bytes = b"") -> None:
        self._out = out
        self._aead = AESGCM(key)
        prefix = os.urandom(PREFIX_BYTES)
        self._header = MAGIC + prefix
        self._prefix = prefix
        self._aad = self._header + aad
        self._buffer = bytearray()
        self._index = 0
        self.written = 0
        self.closed = False
        out.write(self._header)

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self.closed:
            raise ValueError("write to a closed sealed file")
        self._buffer += data
        self.written += len(data)
        while len(self._buffer) > CHUNK:  # keep one chunk back: it may be the last
            self._emit(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def flush(self) -> None:
        self._out.flush()

    def _emit(self, data: bytes, *, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._prefix, self._index, last), data, self._aad)
        self._out.write(struct.pack(">I", len(sealed)))
        self._out.write(sealed)
        self._index += 1

    def close(self) -> None:
        if self.closed:
            return
        self._emit(bytes(self._buffer), last=True)
        self._buffer.clear()
        self.closed = True
        self._out.flush()


def open_chunks(source: BinaryIO, key: bytes, aad: bytes = b"") -> Iterator[bytes]:
    """The plaintext of a sealed file, chunk by chunk, each checked before it is given.

    Raises ``SealedFileError`` (possibly after some chunks) if anything was altered.
    """
    header = source.read(HEADER_BYTES)
    if len(header) != HEADER_BYTES or not header.startswith(MAGIC):
        raise SealedFileError("not a sealed file")
    prefix = header[len(MAGIC) :]
    aead = AESGCM(key)
    full_aad = header + aad
    index = 0
    while True:
        raw_length = source.read(4)
        if len(raw_length) != 4:
            raise SealedFileError("the file was cut short")
        (length,) = struct.unpack(">I", raw_length)
        if length < _TAG or length > CHUNK + _TAG:
            raise SealedFileError("a chunk has an impossible length")
        sealed = source.read(length)
        if len(sealed) != length:
            raise SealedFileError("the file was cut short")
        try:
            data = aead.decrypt(_nonce(prefix, index, False), sealed, full_aad)
            last = False
        except InvalidTag:
            try:
                data = aead.decrypt(_nonce(prefix, index, True), sealed, full_aad)
            except InvalidTag:
                raise SealedFileError("a chunk failed authentication") from None
            last = True
        yield data
        if last:
            if source.read(1):
                raise SealedFileError("data after the last chunk")
            return
        index += 1
