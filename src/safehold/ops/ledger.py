"""The erasure ledger: one line per crypto-shredded data key, kept outside the database.

A restore brings back a database and key store as they were when the backup was
made; a person erased since then would come back. Every shredded key id is appended
here (``<time> <key id>``, fsynced) the moment it is shredded, and ``safehold
restore`` shreds every key in the ledger again. The lines hold random key ids and
times only, nothing personal. Keep ``SAFEHOLD_ERASURE_LEDGER`` on storage that
outlives the server (another disk, a mounted share), or copy it off-site with each
backup: after losing the whole machine, ``safehold restore --erasures FILE`` reads
the copy.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

_KEY_ID = re.compile(r"^[0-9a-f]{32}$")
_lock = threading.Lock()
logger = logging.getLogger(__name__)


def ledger_path() -> Path:
    return Path(str(settings.SAFEHOLD_ERASURE_LEDGER))


def append(key_id: str) -> None:
    """Append one shredded key id, durably (the file is opened, written, fsynced)."""
    path = ledger_path()
    line = f"{datetime.now(UTC).isoformat(timespec='seconds')} {key_id}\n".encode()
    with _lock:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


def read_ledger(path: Path) -> set[str]:
    """The key ids in a ledger file (an absent file is an empty ledger)."""
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return set()
    found = set()
    for line in text.splitlines():
        parts = line.split()
        if parts and _KEY_ID.match(parts[-1]):
            found.add(parts[-1])
    return found


def on_key_shredded(sender: Any, key_id: str, **kwargs: Any) -> None:
    """``vault.signals.data_key_shredded`` receiver. The key is already gone when this
    runs, so a ledger that cannot be written is logged, not raised (the audit log's
    ``vault:key:shredded`` event remains a second record)."""
    try:
        append(key_id)
    except OSError as exc:
        logger.error("the erasure ledger cannot be written: %s", exc.strerror)
