"""Damaged backups are refused, clearly, by --verify and by restore; erasures survive a restore."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from tests.ops.conftest import Instance


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One installation with four people and a backup, shared by the read-only tests."""
    base = tmp_path_factory.mktemp("good")
    instance = Instance(base / "source")
    instance.data_dir.mkdir(mode=0o700)
    instance.ok("init")
    instance.shell("fill(4)")
    backup = base / "good.backup"
    instance.ok("backup", "--output", str(backup))
    return instance, backup


@pytest.fixture
def source(make_instance, tmp_path: Path):  # type: ignore[no-untyped-def]
    """An installation of its own, for the tests that change it."""
    instance = make_instance("source")
    instance.shell("fill(4)")
    backup = tmp_path / "good.backup"
    instance.ok("backup", "--output", str(backup))
    return instance, backup


def _damaged(backup: Path, tmp_path: Path, how: str) -> Path:
    data = bytearray(backup.read_bytes())
    target = tmp_path / f"{how}.backup"
    if how == "flip-header":  # inside the wrapped file key
        data[40] ^= 0x01
    elif how == "flip-payload":
        data[len(data) // 2] ^= 0x01
    elif how == "flip-manifest":
        data[-60] ^= 0x01
    elif how == "truncated":
        data = data[: len(data) * 2 // 3]
    elif how == "cut-at-end":
        data = data[:-1]
    target.write_bytes(bytes(data))
    return target


CASES = {
    "flip-header": "cannot be unwrapped",
    "flip-payload": "checksum does not match",
    "flip-manifest": "manifest failed authentication",
    "truncated": "truncated",
    "cut-at-end": "truncated",
}


@pytest.mark.parametrize("how", sorted(CASES))
def test_damaged_backup_is_refused(good, make_instance, tmp_path: Path, how: str) -> None:  # type: ignore[no-untyped-def]
    instance, backup = good
    damaged = _damaged(backup, tmp_path, how)
    verify = instance.run("backup", "--verify", str(damaged))
    assert verify.returncode != 0
    assert CASES[how] in verify.stderr
    assert len(verify.stderr.strip().splitlines()) == 1  # one line, no traceback
    assert "Traceback" not in verify.stderr

    target = make_instance("target", init=False, master_key=instance.master_key)
    restore = target.run("restore", str(damaged))
    assert restore.returncode != 0
    assert CASES[how] in restore.stderr
    assert len(restore.stderr.strip().splitlines()) == 1
    # Nothing was written: the target is still empty.
    assert not (target.data_dir / "safehold.sqlite3").exists()
    assert not (target.data_dir / "vault-keys.sqlite3").exists()


def test_wrong_master_key_is_refused(good, make_instance) -> None:  # type: ignore[no-untyped-def]
    _, backup = good
    wrong = base64.b64encode(os.urandom(32)).decode()
    other = make_instance("other", init=False, SAFEHOLD_MASTER_KEY=wrong)
    for result in (other.run("backup", "--verify", str(backup)), other.run("restore", str(backup))):
        assert result.returncode != 0
        assert "master key" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert not (other.data_dir / "safehold.sqlite3").exists()


def test_not_a_backup_and_missing_file(good, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    instance, _ = good
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"hello, this is not a backup at all" * 10)
    result = instance.run("backup", "--verify", str(junk))
    assert result.returncode != 0
    assert "is not a Safehold backup" in result.stderr
    result = instance.run("restore", str(tmp_path / "absent.backup"))
    assert result.returncode != 0
    assert "no such file" in result.stderr


def test_restore_refuses_a_live_installation_without_force(source) -> None:  # type: ignore[no-untyped-def]
    instance, backup = source
    result = instance.run("restore", str(backup))
    assert result.returncode != 0
    assert "already holds data" in result.stderr
    assert "--force" in result.stderr
    instance.ok("restore", "--force", str(backup))


def test_manifest_describes_the_backup(good) -> None:  # type: ignore[no-untyped-def]
    instance, backup = good
    out = instance.ok("backup", "--verify", str(backup), "--manifest")
    manifest = json.loads(out.split("\nOK:")[0])
    assert manifest["database"]["engine"] == "sqlite"
    assert manifest["database"]["migrations"]["ops"].startswith("0001")
    assert manifest["database"]["row_counts"]["accounts_user"] == 4
    assert manifest["keystore"]["row_counts"]["safehold_vault_data_key"] >= 4
    assert len(manifest["payload"]["sha256"]) == 64
    assert "audit-signing.key" in manifest["members"]
    # Nothing personal in the clear: the file holds no user name or e-mail address.
    raw = backup.read_bytes()
    assert b"p0@example.test" not in raw
    assert b"Name of p0" not in raw


def test_person_shredded_after_the_backup_stays_erased(source, make_instance) -> None:  # type: ignore[no-untyped-def]
    instance, backup = source
    shredded = instance.shell("shred('p1')")
    assert shredded["shredded"] is True
    ledger = instance.data_dir / "erasures.log"
    assert shredded["key"] in ledger.read_text()

    # Restored on the same machine (the live key store and ledger are there).
    out = instance.ok("restore", "--force", str(backup))
    assert "erasures re-applied since the backup: 1 (1 accounts closed again)" in out
    info = instance.shell("inspect('p0,p1,p2')")
    assert "p1" not in info["usernames"]  # the account is closed and renamed
    assert "p1" not in info["active"]
    assert info["names"]["p0"] == "Name of p0"
    assert info["audit_ok"], info["audit_problems"]

    # Restored on a new machine, given a copy of the erasure ledger.
    fresh = make_instance("fresh", init=False, master_key=instance.master_key)
    out = fresh.ok("restore", str(backup), "--erasures", str(ledger))
    assert "erasures re-applied since the backup: 1" in out
    info = fresh.shell("inspect('p0,p1,p2')")
    assert "p1" not in info["usernames"]
    assert info["names"]["p2"] == "Name of p2"
    # The shredded person's sealed data cannot be read, whatever the restored rows say.
    assert list(info["erased"].values()) == ["<erased>"]


def test_person_erased_through_the_rights_app_after_the_backup_stays_erased(source) -> None:  # type: ignore[no-untyped-def]
    instance, backup = source
    erased = instance.shell("erase('p3')")
    assert erased["done"] is True
    out = instance.ok("restore", "--force", str(backup))
    assert "erasures re-applied since the backup: 1" in out
    info = instance.shell("inspect('p0,p3')")
    assert "p3" not in info["usernames"]
    assert "p3" not in info["active"]
    assert list(info["erased"].values()) == ["<erased>"]
    assert info["names"]["p0"] == "Name of p0"
    assert info["audit_ok"], info["audit_problems"]
