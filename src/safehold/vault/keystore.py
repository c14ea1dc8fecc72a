"""The key store: key-encryption keys and every person's wrapped data key.

It is kept apart from the main database on purpose. Crypto-shredding destroys a
person's wrapped data key here; a copy or backup of the main database made before
then holds only ciphertexts and key ids, so it cannot bring the person back.

``SAFEHOLD_VAULT_KEYSTORE`` is a file path (SQLite, the default:
``DATA_DIR/vault-keys.sqlite3``) or a ``postgresql://`` URL for a store that several
app servers share (use a database of its own, backed up on its own schedule).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from safehold.vault.exceptions import VaultConfigError

_SCHEMA = {
    "sqlite": [
        """CREATE TABLE IF NOT EXISTS safehold_vault_kek (
            version INTEGER PRIMARY KEY, wrapped BLOB NOT NULL,
            state TEXT NOT NULL, created_at TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS safehold_vault_data_key (
            id TEXT PRIMARY KEY, kek_version INTEGER NOT NULL, wrapped BLOB,
            created_at TEXT NOT NULL, shredded_at TEXT)""",
        "CREATE INDEX IF NOT EXISTS safehold_vault_dk_kek ON safehold_vault_data_key (kek_version)",
        """CREATE TABLE IF NOT EXISTS safehold_vault_secret (
            name TEXT PRIMARY KEY, wrapped BLOB NOT NULL, created_at TEXT NOT NULL)""",
    ],
    "postgresql": [
        """CREATE TABLE IF NOT EXISTS safehold_vault_kek (
            version INTEGER PRIMARY KEY, wrapped BYTEA NOT NULL,
            state TEXT NOT NULL, created_at TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS safehold_vault_data_key (
            id TEXT PRIMARY KEY, kek_version INTEGER NOT NULL, wrapped BYTEA,
            created_at TEXT NOT NULL, shredded_at TEXT)""",
        "CREATE INDEX IF NOT EXISTS safehold_vault_dk_kek ON safehold_vault_data_key (kek_version)",
        """CREATE TABLE IF NOT EXISTS safehold_vault_secret (
            name TEXT PRIMARY KEY, wrapped BYTEA NOT NULL, created_at TEXT NOT NULL)""",
    ],
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class StoredDataKey:
    id: str
    kek_version: int
    wrapped: bytes | None
    shredded_at: str | None


@dataclass(frozen=True)
class StoredKek:
    version: int
    wrapped: bytes
    state: str  # "active" (new data keys), "retiring" (still wraps some), "retired"
    created_at: str


class KeyStore:
    """SQL access to the key store; one connection per thread and process."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.dialect = (
            "postgresql" if location.startswith(("postgres://", "postgresql://")) else "sqlite"
        )
        self._local = threading.local()
        self._schema_ready = False

    # --- connections -------------------------------------------------------------------

    def _connect(self) -> Any:
        if self.dialect == "postgresql":
            import psycopg

            return psycopg.connect(self.location, autocommit=True)
        path = Path(self.location)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        return connection

    def _connection(self) -> Any:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.connection, local.pid = None, os.getpid()
        if local.connection is None:
            try:
                local.connection = self._connect()
            except Exception as exc:
                raise VaultConfigError(
                    f"cannot open the vault key store: {type(exc).__name__}"
                ) from None
            if not self._schema_ready:
                for statement in _SCHEMA[self.dialect]:
                    local.connection.execute(statement)
                self._schema_ready = True
        return local.connection

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.dialect == "postgresql" else statement

    def _execute(self, statement: str, params: Iterable[Any] = ()) -> Any:
        return self._connection().execute(self._sql(statement), tuple(params))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction (SQLite takes the write lock at once)."""
        connection = self._connection()
        if self.dialect == "postgresql":
            with connection.transaction():
                yield
            return
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    # --- key-encryption keys -------------------------------------------------------------

    def keks(self) -> list[StoredKek]:
        rows = self._execute(
            "SELECT version, wrapped, state, created_at FROM safehold_vault_kek ORDER BY version"
        ).fetchall()
        return [StoredKek(int(r[0]), bytes(r[1]), r[2], r[3]) for r in rows]

    def kek(self, version: int) -> StoredKek | None:
        row = self._execute(
            "SELECT version, wrapped, state, created_at FROM safehold_vault_kek WHERE version = ?",
            (version,),
        ).fetchone()
        return StoredKek(int(row[0]), bytes(row[1]), row[2], row[3]) if row else None

    def add_kek(self, version: int, wrapped: bytes) -> bool:
        """Add ``version`` as the active KEK (the previous active one starts retiring).

        Returns False if that version exists already (another process made it first).
        """
        try:
            return self._add_kek(version, wrapped)
        except Exception:  # a unique violation when a racing process made it first
            if self.kek(version) is not None:
                return False
            raise

    def _add_kek(self, version: int, wrapped: bytes) -> bool:
        with self.transaction():
            if self._execute(
                "SELECT 1 FROM safehold_vault_kek WHERE version = ?", (version,)
            ).fetchone():
                return False
            self._execute("UPDATE safehold_vault_kek SET state = 'retiring' WHERE state = 'active'")
            self._execute(
                "INSERT INTO safehold_vault_kek (version, wrapped, state, created_at) "
                "VALUES (?, ?, 'active', ?)",
                (version, wrapped, _now()),
            )
        return True

    def set_kek_state(self, version: int, state: str) -> None:
        self._execute("UPDATE safehold_vault_kek SET state = ? WHERE version = ?", (state, version))

    # --- data keys -----------------------------------------------------------------------------

    def add_data_key(self, key_id: str, kek_version: int, wrapped: bytes) -> None:
        self._execute(
            "INSERT INTO safehold_vault_data_key (id, kek_version, wrapped, created_at) "
            "VALUES (?, ?, ?, ?)",
            (key_id, kek_version, wrapped, _now()),
        )

    def data_key(self, key_id: str) -> StoredDataKey | None:
        row = self._execute(
            "SELECT id, kek_version, wrapped, shredded_at FROM safehold_vault_data_key "
            "WHERE id = ?",
            (key_id,),
        ).fetchone()
        if row is None:
            return None
        return StoredDataKey(
            row[0], int(row[1]), bytes(row[2]) if row[2] is not None else None, row[3]
        )

    def shred_data_key(self, key_id: str) -> bool:
        """Destroy the wrapped key (the row stays, to say when). False if there was none."""
        cursor = self._execute(
            "UPDATE safehold_vault_data_key SET wrapped = NULL, shredded_at = ? "
            "WHERE id = ? AND shredded_at IS NULL",
            (_now(), key_id),
        )
        return bool(cursor.rowcount)

    def data_keys_below(self, version: int, limit: int) -> list[StoredDataKey]:
        """Live data keys wrapped by a KEK older than ``version``."""
        rows = self._execute(
            "SELECT id, kek_version, wrapped, shredded_at FROM safehold_vault_data_key "
            "WHERE kek_version < ? AND wrapped IS NOT NULL LIMIT ?",
            (version, limit),
        ).fetchall()
        return [StoredDataKey(r[0], int(r[1]), bytes(r[2]), r[3]) for r in rows]

    def rewrap(self, updates: list[tuple[str, int, int, bytes]]) -> int:
        """Apply (id, old version, new version, new wrapped key) in one transaction.

        A key changed meanwhile (shredded, or re-wrapped by another run) is skipped.
        """
        statement = self._sql(
            "UPDATE safehold_vault_data_key SET kek_version = ?, wrapped = ? "
            "WHERE id = ? AND kek_version = ? AND wrapped IS NOT NULL"
        )
        params = [(new, wrapped, key_id, old) for key_id, old, new, wrapped in updates]
        with self.transaction():
            if self.dialect == "sqlite":
                return int(self._connection().executemany(statement, params).rowcount)
            changed = 0
            with self._connection().cursor() as cursor:
                for row in params:
                    cursor.execute(statement, row)
                    changed += cursor.rowcount
            return changed

    def count_by_version(self) -> dict[int, tuple[int, int]]:
        """For each KEK version: (live data keys, shredded data keys)."""
        rows = self._execute(
            "SELECT kek_version, SUM(CASE WHEN wrapped IS NULL THEN 0 ELSE 1 END), "
            "SUM(CASE WHEN wrapped IS NULL THEN 1 ELSE 0 END) "
            "FROM safehold_vault_data_key GROUP BY kek_version"
        ).fetchall()
        return {int(r[0]): (int(r[1] or 0), int(r[2] or 0)) for r in rows}

    # --- other wrapped secrets (the blind-index key) -----------------------------------------

    def secret(self, name: str) -> bytes | None:
        row = self._execute(
            "SELECT wrapped FROM safehold_vault_secret WHERE name = ?", (name,)
        ).fetchone()
        return bytes(row[0]) if row else None

    def add_secret(self, name: str, wrapped: bytes) -> None:
        self._execute(
            "INSERT INTO safehold_vault_secret (name, wrapped, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO NOTHING",
            (name, wrapped, _now()),
        )


_store: KeyStore | None = None
_store_lock = threading.Lock()


def get_keystore() -> KeyStore:
    global _store  # one store per process, made on first use
    location = str(settings.SAFEHOLD_VAULT_KEYSTORE)
    with _store_lock:
        if _store is None or _store.location != location:
            _store = KeyStore(location)
        return _store
