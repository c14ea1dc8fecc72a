"""Backups: make one while the site serves, verify one, restore one.

What a backup holds (a tar stream, compressed, then encrypted: see ``archive``):

- ``database.sqlite3`` (SQLite's online backup API: one consistent snapshot while
  writers carry on) or ``database.pgdump`` (``pg_dump -Fc`` under a snapshot exported
  from the transaction that counted the rows, so the counts are exactly the dump's);
- ``keystore.sqlite3``: the vault's key store (KEKs wrapped by the master key, every
  person's wrapped data key, the installation's wrapped secrets), taken *after* the
  database, so every key the database refers to is in it. Without it the restored
  data would be unreadable; it is useless without the master key, which is never
  in a backup;
- ``audit-signing.key``, when the key is a file in the data directory, so that a
  restored audit log verifies against the key that signed its checkpoints.

Erasures made after a backup are kept in the erasure ledger (``ledger``) and in the
live key store and audit log; ``restore`` re-applies all of them.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections

import safehold
from safehold.ops import archive, ledger
from safehold.ops.exceptions import BackupError, RestoreRefused

DATABASE_SQLITE = "database.sqlite3"
DATABASE_PGDUMP = "database.pgdump"
KEYSTORE = "keystore.sqlite3"
SIGNING_KEY = "audit-signing.key"
MEMBERS = {DATABASE_SQLITE, DATABASE_PGDUMP, KEYSTORE, SIGNING_KEY}
KEYSTORE_TABLES = ("safehold_vault_kek", "safehold_vault_data_key", "safehold_vault_secret")
FORMAT = 1
# zlib level 6: most of the gain of 9 at a fraction of the time (sealed fields do not
# compress at all; the rest of a row does).
COMPRESS_LEVEL = 6


def _now() -> datetime:
    """The time seam for tests."""
    return datetime.now(UTC)


# --- where things are -------------------------------------------------------------------


def engine() -> str:
    """``sqlite`` or ``postgresql``: the main database's engine."""
    name = str(settings.DATABASES["default"]["ENGINE"])
    if name.endswith("sqlite3"):
        return "sqlite"
    if "postgresql" in name:
        return "postgresql"
    raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")


def sqlite_path() -> Path:
    return Path(str(settings.DATABASES["default"]["NAME"]))


def _pg_restore(dump: Path, database: str | None = None) -> None:
    """Load a ``pg_dump -Fc`` file into ``database`` (default: the configured one), all or
    nothing."""
    args, env = _pg_params(database)
    _run_tool(
        [
            _tool("pg_restore"),
            "--no-owner",
            "--no-acl",
            "--exit-on-error",
            "--single-transaction",
            *args,
            str(dump),
        ],
        env,
    )


def _pg_params(database: str | None = None) -> tuple[list[str], dict[str, str]]:
    """Connection options for the PostgreSQL client tools; the password goes in the
    environment, never on the command line (where `ps` would show it)."""
    db = settings.DATABASES["default"]
    args = ["--dbname", database or str(db["NAME"])]
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _pg_connect(database: str | None = None, *, autocommit: bool = True) -> Any:
    import psycopg

    db = settings.DATABASES["default"]
    params: dict[str, Any] = {
        "dbname": database or db["NAME"],
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "connect_timeout": 10,
    }
    try:
        conninfo = psycopg.conninfo.make_conninfo("", **{k: v for k, v in params.items() if v})
        return psycopg.connect(conninfo, autocommit=autocommit)
    except psycopg.Error as exc:
        raise BackupError(f"cannot connect to PostgreSQL: {type(exc).__name__}") from None


def _tool(name: str) -> str:
    found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else "")
    if not found:
        raise BackupError(f"{name} is not installed (the PostgreSQL client tools are needed)")
    return found


def _run_tool(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603  # our arguments
    if result.returncode != 0:
        # pg_dump/pg_restore messages name objects, never row values.
        first = (result.stderr.strip().splitlines() or ["no message"])[0][:300]
        raise BackupError(f"{Path(args[0]).name} failed: {first}")


def backup_dir() -> Path:
    return Path(str(settings.SAFEHOLD_BACKUP_DIR))


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    """A private scratch directory in the data directory (it holds plain snapshots)."""
    base = Path(settings.DATA_DIR) / "tmp"
    base.mkdir(mode=0o700, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="ops-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- snapshots ----------------------------------------------------------------------------


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    return [r[0] for r in rows]


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {
        t: int(conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0])  # noqa: S608  # names from sqlite_master
        for t in _sqlite_tables(conn)
    }


def _latest_migrations(rows: list[tuple[str, str]]) -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in rows:
        if name > latest.get(app, ""):
            latest[app] = name
    return dict(sorted(latest.items()))


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (the online backup API, in one step,
    so it is one snapshot even while others write), as a single file."""
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def _snapshot_sqlite(scratch: Path) -> tuple[Path, dict[str, int], dict[str, str]]:
    source = sqlite_path()
    if not source.exists():
        raise BackupError(f"there is no database at {source}: nothing to back up")
    target = scratch / DATABASE_SQLITE
    _sqlite_copy(source, target)
    conn = sqlite3.connect(target)
    try:
        counts = _sqlite_counts(conn)
        migrations = (
            _latest_migrations(conn.execute("SELECT app, name FROM django_migrations").fetchall())
            if "django_migrations" in counts
            else {}
        )
    finally:
        conn.close()
    return target, counts, migrations


def _pg_tables(cursor: Any) -> list[str]:
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname"
    )
    return [r[0] for r in cursor.fetchall() if r[0] not in KEYSTORE_TABLES]


def _pg_counts(cursor: Any) -> dict[str, int]:
    from psycopg import sql

    counts = {}
    for table in _pg_tables(cursor):
        cursor.execute(sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(table)))
        counts[table] = int(cursor.fetchone()[0])
    return counts


def _snapshot_postgresql(scratch: Path) -> tuple[Path, dict[str, int], dict[str, str]]:
    import psycopg

    target = scratch / DATABASE_PGDUMP
    conn = _pg_connect(autocommit=False)
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = _pg_counts(cursor)
            migrations: dict[str, str] = {}
            if "django_migrations" in counts:
                cursor.execute("SELECT app, name FROM django_migrations")
                migrations = _latest_migrations(cursor.fetchall())
            args, env = _pg_params()
            excluded = [f"--exclude-table={t}" for t in KEYSTORE_TABLES]
            # While this transaction stays open, pg_dump sees exactly what was counted.
            _run_tool(
                [
                    _tool("pg_dump"),
                    "--format=custom",
                    "--compress=0",
                    f"--snapshot={snapshot}",
                    "--no-owner",
                    "--no-acl",
                    *excluded,
                    "--file",
                    str(target),
                    *args,
                ],
                env,
            )
        conn.rollback()
    finally:
        conn.close()
    return target, counts, migrations


def _keystore_location() -> str:
    return str(settings.SAFEHOLD_VAULT_KEYSTORE)


def _is_pg_location(location: str) -> bool:
    return location.startswith(("postgres://", "postgresql://"))


def _new_keystore_file(path: Path) -> sqlite3.Connection:
    from safehold.vault.keystore import _SCHEMA

    conn = sqlite3.connect(path)
    for statement in _SCHEMA["sqlite"]:
        conn.execute(statement)
    return conn


def _snapshot_keystore(scratch: Path) -> tuple[Path, dict[str, int]]:
    target = scratch / KEYSTORE
    location = _keystore_location()
    if _is_pg_location(location):
        import psycopg

        conn = _new_keystore_file(target)
        try:
            with psycopg.connect(location, autocommit=False, connect_timeout=10) as source:
                source.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                with source.cursor() as cursor:
                    for table, columns in _KEYSTORE_COLUMNS.items():
                        with contextlib.suppress(psycopg.errors.UndefinedTable):
                            cursor.execute(f"SELECT {', '.join(columns)} FROM {table}")  # noqa: S608  # fixed names
                            rows = [
                                tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                                for row in cursor.fetchall()
                            ]
                            marks = ", ".join("?" for _ in columns)
                            conn.executemany(
                                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608  # fixed names
                                rows,
                            )
                source.rollback()
            conn.commit()
        except psycopg.Error as exc:
            raise BackupError(f"cannot read the key store: {type(exc).__name__}") from None
        finally:
            conn.close()
    elif Path(location).exists():
        _sqlite_copy(Path(location), target)
    else:
        _new_keystore_file(target).close()
    conn = sqlite3.connect(target)
    try:
        counts = {t: c for t, c in _sqlite_counts(conn).items() if t in KEYSTORE_TABLES}
    finally:
        conn.close()
    return target, counts


_KEYSTORE_COLUMNS = {
    "safehold_vault_kek": ("version", "wrapped", "state", "created_at"),
    "safehold_vault_data_key": ("id", "kek_version", "wrapped", "created_at", "shredded_at"),
    "safehold_vault_secret": ("name", "wrapped", "created_at"),
}


def _signing_key_file() -> Path | None:
    if os.environ.get("SAFEHOLD_AUDIT_SIGNING_KEY", "").strip():
        return None
    from safehold.audit import signing

    path = Path(settings.DATA_DIR) / signing.KEY_FILE
    return path if path.exists() else None


# --- making a backup ------------------------------------------------------------------


@dataclass(frozen=True)
class BackupResult:
    path: Path
    backup_id: str
    size: int
    manifest: dict[str, Any]
    seconds: float


def default_output() -> Path:
    stamp = _now().strftime("%Y%m%dT%H%M%SZ")
    return backup_dir() / f"safehold-{stamp}-{os.urandom(3).hex()}.backup"


def write_backup(output: Path) -> BackupResult:
    """Write a backup of the live installation to ``output`` (atomically: a partial
    file is never left under that name). Safe while the site is serving.

    Raises ``BackupError``. Records nothing: ``services.make_backup`` does that.
    """
    started = time.monotonic()
    output = output.expanduser().resolve()
    output.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if output.exists():
        raise BackupError(f"{output} exists already: choose another name")
    kind = engine()
    partial = output.with_name(output.name + ".partial")
    with _scratch() as scratch:
        if kind == "sqlite":
            db_file, counts, migrations = _snapshot_sqlite(scratch)
        else:
            db_file, counts, migrations = _snapshot_postgresql(scratch)
        keystore_file, keystore_counts = _snapshot_keystore(scratch)
        members = [db_file, keystore_file]
        signing = _signing_key_file()
        if signing is not None:
            shutil.copyfile(signing, scratch / SIGNING_KEY)
            members.append(scratch / SIGNING_KEY)
        try:
            with open(partial, "xb") as out:
                writer = archive.EncryptingWriter(out)
                with (
                    gzip.GzipFile(
                        fileobj=writer,
                        mode="wb",
                        compresslevel=COMPRESS_LEVEL,
                        mtime=0,
                    ) as compressed,
                    tarfile.open(fileobj=compressed, mode="w|") as tar,
                ):
                    for member in members:
                        tar.add(member, arcname=member.name, recursive=False)
                writer.close()
                manifest = {
                    "format": FORMAT,
                    "backup_id": writer.backup_id.hex(),
                    "created_at": _now().isoformat(timespec="seconds"),
                    "safehold_version": safehold.__version__,
                    "database": {
                        "engine": kind,
                        "member": db_file.name,
                        "migrations": migrations,
                        "row_counts": counts,
                    },
                    "keystore": {"member": KEYSTORE, "row_counts": keystore_counts},
                    "members": sorted(m.name for m in members),
                    "compression": "gzip",
                    "payload": {
                        "bytes": writer.payload_bytes,
                        "chunks": writer.chunks,
                        "sha256": writer.payload_sha256,
                    },
                }
                writer.finish(manifest)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, output)
            _fsync_dir(output.parent)
        except FileExistsError:
            raise BackupError(f"{partial} exists: is another backup running?") from None
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise BackupError(f"cannot write {output}: {exc.strerror}") from None
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return BackupResult(
        output,
        str(manifest["backup_id"]),
        output.stat().st_size,
        manifest,
        time.monotonic() - started,
    )


# --- reading a backup ------------------------------------------------------------------


def extract(path: Path, into: Path) -> archive.OpenedBackup:
    """Authenticate ``path``, check its checksum, and decrypt its members into ``into``.

    Raises ``BackupError`` (one line) on a wrong key, a damaged or truncated file.
    """
    opened = archive.open_backup(str(path))
    opened.check_checksum()
    reader = archive.DecryptingReader(opened)
    seen: set[str] = set()
    try:
        with (
            gzip.GzipFile(fileobj=reader, mode="rb") as compressed,  # type: ignore[call-overload]  # a read-only file object
            tarfile.open(fileobj=compressed, mode="r|") as tar,
        ):
            for member in tar:
                if member.name not in MEMBERS or not member.isfile() or member.name in seen:
                    raise BackupError(f"the backup holds an unexpected member {member.name!r}")
                seen.add(member.name)
                source = tar.extractfile(member)
                assert source is not None  # noqa: S101  # a regular file, checked above
                with open(into / member.name, "xb") as target:
                    shutil.copyfileobj(source, target, 1024 * 1024)
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        if isinstance(exc, BackupError):
            raise
        raise BackupError(f"the backup's contents cannot be read ({type(exc).__name__})") from None
    expected = set(opened.manifest.get("members", []))
    if seen != expected:
        raise BackupError("the backup's contents do not match its manifest")
    return opened


@dataclass
class VerifyReport:
    backup_id: str
    manifest: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _compare(expected: dict[str, int], found: dict[str, int], what: str) -> list[str]:
    problems = []
    for table in sorted(set(expected) | set(found)):
        if expected.get(table) != found.get(table):
            problems.append(
                f"{what} table {table}: {found.get(table, 'missing')} rows, "
                f"the manifest says {expected.get(table, 'none')}"
            )
    return problems


def _pg_scratch_counts(dump: Path) -> dict[str, int]:
    """Restore ``dump`` into a scratch database on the configured server, count, drop it."""
    if engine() != "postgresql":
        raise BackupError(
            "verifying a PostgreSQL backup needs a PostgreSQL server: "
            "run it with SAFEHOLD_DATABASE_URL set"
        )
    name = f"safehold_verify_{os.urandom(6).hex()}"
    admin = _pg_connect("postgres")
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            _pg_restore(dump, name)
            with _pg_connect(name) as conn, conn.cursor() as cursor:
                return _pg_counts(cursor)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


def verify_file(path: Path) -> VerifyReport:
    """Check a backup end to end: authenticate, checksum, decrypt, open the database in
    a scratch place (SQLite's integrity check; a scratch PostgreSQL database), and
    compare every table's row count with the manifest.

    Raises ``BackupError`` if the file cannot be read at all; otherwise returns a
    report whose ``problems`` list what did not match.
    """
    with _scratch() as scratch:
        opened = extract(path, scratch)
        manifest = opened.manifest
        report = VerifyReport(manifest["backup_id"], manifest)
        database = manifest["database"]
        if database["engine"] == "sqlite":
            conn = sqlite3.connect(scratch / DATABASE_SQLITE)
            try:
                check = conn.execute("PRAGMA integrity_check").fetchone()[0]
                if check != "ok":
                    report.problems.append(f"the database fails its integrity check: {check}")
                found = _sqlite_counts(conn)
            except sqlite3.DatabaseError as exc:
                raise BackupError(f"the backed-up database cannot be opened: {exc}") from None
            finally:
                conn.close()
        else:
            found = _pg_scratch_counts(scratch / DATABASE_PGDUMP)
        report.counts.update(found)
        report.problems += _compare(database["row_counts"], found, "database")
        conn = sqlite3.connect(scratch / KEYSTORE)
        try:
            keystore_found = {t: c for t, c in _sqlite_counts(conn).items() if t in KEYSTORE_TABLES}
        finally:
            conn.close()
        report.problems += _compare(manifest["keystore"]["row_counts"], keystore_found, "key store")
    return report


# --- restoring ----------------------------------------------------------------------------


def _sqlite_has_data(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    conn = sqlite3.connect(path, timeout=30)
    try:
        return bool(_sqlite_tables(conn))
    except sqlite3.DatabaseError:
        return True  # something is there that is not an empty database: never overwrite it
    finally:
        conn.close()


def _pg_has_data() -> bool:
    with _pg_connect() as conn, conn.cursor() as cursor:
        return bool(_pg_tables(cursor))


def _keystore_has_keys() -> bool:
    location = _keystore_location()
    if _is_pg_location(location):
        import psycopg

        try:
            with psycopg.connect(location, connect_timeout=10) as pg:
                row = pg.execute(
                    "SELECT (SELECT COUNT(*) FROM safehold_vault_data_key) "
                    "+ (SELECT COUNT(*) FROM safehold_vault_kek)"
                ).fetchone()
                return bool(row and row[0])
        except psycopg.errors.UndefinedTable:
            return False
        except psycopg.Error as exc:
            raise BackupError(f"cannot read the key store: {type(exc).__name__}") from None
    path = Path(location)
    if not path.exists():
        return False
    conn = sqlite3.connect(path, timeout=30)
    try:
        row = conn.execute(
            "SELECT (SELECT COUNT(*) FROM safehold_vault_data_key) "
            "+ (SELECT COUNT(*) FROM safehold_vault_kek)"
        ).fetchone()
        return bool(row and row[0])
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


def target_has_data() -> bool:
    """Whether the configured database or key store already holds anything."""
    has = _sqlite_has_data(sqlite_path()) if engine() == "sqlite" else _pg_has_data()
    return has or _keystore_has_keys()


def _shredded_in_live_keystore() -> set[str]:
    location = _keystore_location()
    query = "SELECT id FROM safehold_vault_data_key WHERE wrapped IS NULL"
    if _is_pg_location(location):
        import psycopg

        try:
            with psycopg.connect(location, connect_timeout=10) as pg:
                return {r[0] for r in pg.execute(query).fetchall()}
        except psycopg.Error:
            return set()
    path = Path(location)
    if not path.exists():
        return set()
    conn = sqlite3.connect(path, timeout=30)
    try:
        return {r[0] for r in conn.execute(query).fetchall()}
    except sqlite3.DatabaseError:
        return set()
    finally:
        conn.close()


def _shredded_in_live_audit_log() -> set[str]:
    """Key ids from the live database's ``vault:key:shredded`` events (if it is readable)."""
    from safehold.audit.events import EventType
    from safehold.audit.services import EventRecord

    query = "SELECT data FROM audit_event WHERE event_type = %s"
    rows: list[Any] = []
    try:
        if engine() == "sqlite":
            path = sqlite_path()
            if not path.exists():
                return set()
            conn = sqlite3.connect(path, timeout=30)
            try:
                rows = conn.execute(
                    query.replace("%s", "?"), (str(EventType.KEY_SHREDDED),)
                ).fetchall()
            finally:
                conn.close()
        else:
            with _pg_connect() as pg:
                rows = pg.execute(query, (str(EventType.KEY_SHREDDED),)).fetchall()
    except Exception:  # no database yet, no audit table, or a damaged database
        return set()
    found = set()
    for (data,) in rows:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            found.add(str(EventRecord.from_bytes(bytes(data)).detail_dict["data_key"]))
    return found


def collect_erasures(extra_ledgers: list[Path]) -> set[str]:
    """Every data key known to have been shredded, from every source still readable:
    the erasure ledger(s), the live key store, and the live audit log."""
    found = ledger.read_ledger(ledger.ledger_path())
    for extra in extra_ledgers:
        if not extra.exists():
            raise BackupError(f"no such erasure ledger: {extra}")
        found |= ledger.read_ledger(extra)
    return found | _shredded_in_live_keystore() | _shredded_in_live_audit_log()


def _replace_file(source: Path, target: Path) -> None:
    """Put ``source`` at ``target`` atomically, with no stale WAL beside it."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    staged = target.with_name(target.name + ".restoring")
    shutil.copyfile(source, staged)
    with open(staged, "rb+") as handle:
        os.fsync(handle.fileno())
    for suffix in ("-wal", "-shm", "-journal"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    os.replace(staged, target)
    _fsync_dir(target.parent)


def _restore_sqlite(file: Path) -> None:
    _replace_file(file, sqlite_path())
    conn = sqlite3.connect(sqlite_path())
    try:
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


def _restore_postgresql(dump: Path) -> None:
    from psycopg import sql

    with _pg_connect() as conn, conn.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchone()[0]
        for table in _pg_tables(cursor):
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(table)))
        cursor.execute(
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = %s AND p.prokind = 'f'",
            [schema],
        )
        for (function,) in cursor.fetchall():
            cursor.execute(
                sql.SQL("DROP FUNCTION IF EXISTS {} CASCADE").format(sql.Identifier(function))
            )
    _pg_restore(dump)


def _restore_keystore(file: Path) -> None:
    location = _keystore_location()
    if not _is_pg_location(location):
        _replace_file(file, Path(location))
        return
    import psycopg

    from safehold.vault.keystore import _SCHEMA

    source = sqlite3.connect(file)
    try:
        with psycopg.connect(location, connect_timeout=10) as conn, conn.transaction():
            for statement in _SCHEMA["postgresql"]:
                conn.execute(statement)
            for table in KEYSTORE_TABLES:
                conn.execute(f"DELETE FROM {table}")  # noqa: S608  # fixed names
            for table, columns in _KEYSTORE_COLUMNS.items():
                rows = source.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()  # noqa: S608  # fixed names
                if rows:
                    with conn.cursor() as cursor:
                        cursor.executemany(
                            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608  # fixed names
                            f"VALUES ({', '.join('%s' for _ in columns)})",
                            rows,
                        )
    except psycopg.Error as exc:
        raise BackupError(f"cannot write the key store: {type(exc).__name__}") from None
    finally:
        source.close()


def _restore_signing_key(file: Path) -> str:
    """Put the backup's audit signing key in place; returns what was done."""
    from safehold.audit import signing

    if os.environ.get("SAFEHOLD_AUDIT_SIGNING_KEY", "").strip():
        return "kept SAFEHOLD_AUDIT_SIGNING_KEY"
    target = Path(settings.DATA_DIR) / signing.KEY_FILE
    content = file.read_bytes()
    if target.exists():
        if target.read_bytes() == content:
            return "unchanged"
        stamp = _now().strftime("%Y%m%dT%H%M%SZ")
        target.rename(target.with_name(f"{target.name}.before-restore-{stamp}"))
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    signing.signing_key.cache_clear()
    return "restored"


def _forget_connections() -> None:
    from safehold.vault import keys
    from safehold.vault.keystore import get_keystore

    connections.close_all()
    get_keystore().close()
    keys.forget_system_secrets()


@dataclass
class RestoreResult:
    backup_id: str
    manifest: dict[str, Any]
    counts: dict[str, int]
    count_problems: list[str]
    erasures_reapplied: list[str]
    signing_key: str


def restore_file(path: Path, *, force: bool, extra_ledgers: list[Path]) -> RestoreResult:
    """Restore ``path`` into the configured database and key store.

    Refuses (``RestoreRefused``) if either already holds data, unless ``force``.
    The backup is read and checked completely before anything is replaced. Returns
    what was restored; ``services.restore_backup`` re-applies erasures, verifies the
    audit log and records the restore.
    """
    kind = engine()
    with _scratch() as scratch:
        opened = extract(path, scratch)
        manifest = opened.manifest
        if manifest["database"]["engine"] != kind:
            raise BackupError(
                f"this is a backup of a {manifest['database']['engine']} database; "
                f"the configured database is {kind}"
            )
        if not force and target_has_data():
            where = sqlite_path() if kind == "sqlite" else "the configured PostgreSQL database"
            raise RestoreRefused(
                f"{where} (or the key store) already holds data: restore into an empty one, "
                "or pass --force to replace it"
            )
        erasures = collect_erasures(extra_ledgers)
        _forget_connections()
        if kind == "sqlite":
            _restore_sqlite(scratch / DATABASE_SQLITE)
        else:
            _restore_postgresql(scratch / DATABASE_PGDUMP)
        _restore_keystore(scratch / KEYSTORE)
        signing_key = (
            _restore_signing_key(scratch / SIGNING_KEY)
            if (scratch / SIGNING_KEY).exists()
            else "not in the backup"
        )
        _forget_connections()
    if kind == "sqlite":
        conn = sqlite3.connect(sqlite_path())
        try:
            counts = _sqlite_counts(conn)
        finally:
            conn.close()
    else:
        with _pg_connect() as pg, pg.cursor() as cursor:
            counts = _pg_counts(cursor)
    return RestoreResult(
        manifest["backup_id"],
        manifest,
        counts,
        _compare(manifest["database"]["row_counts"], counts, "database"),
        sorted(erasures),
        signing_key,
    )


def describe(manifest: dict[str, Any]) -> str:
    """One paragraph about a backup, for the command line."""
    database = manifest["database"]
    rows = sum(database["row_counts"].values())
    return (
        f"backup {manifest['backup_id']} made {manifest['created_at']} by Safehold "
        f"{manifest['safehold_version']}: {database['engine']} database, "
        f"{len(database['row_counts'])} tables, {rows} rows; "
        f"{manifest['keystore']['row_counts'].get('safehold_vault_data_key', 0)} data keys"
    )


def manifest_json(manifest: dict[str, Any]) -> str:
    buffer = io.StringIO()
    json.dump(manifest, buffer, indent=2, sort_keys=True)
    return buffer.getvalue()
