"""The restore drill: fill an installation, back it up while writes continue, restore it
into a new data directory (or database), and check that nothing acknowledged is lost."""

from __future__ import annotations

import json
from pathlib import Path


def _drill(make_instance, tmp_path: Path, env_a: dict, env_b: dict) -> None:  # type: ignore[no-untyped-def]
    a = make_instance("a", **env_a)
    assert a.shell("fill(25)") == {"made": 25}
    writer = a.writer(tmp_path / "stop")
    writer.wait_for(5)
    acked_before = writer.snapshot()  # committed before the backup started
    backup = tmp_path / "drill.backup"
    out = a.ok("backup", "--output", str(backup))
    assert "verified: the backup opens and its row counts match" in out
    writer.wait_for(len(acked_before) + 5)  # the writes went on during and after the backup
    writer.stop()

    # A new machine: an empty data directory with the same master key, nothing else.
    b = make_instance("b", init=False, master_key=a.master_key, **env_b)
    restored = b.ok("restore", str(backup))
    assert "row counts match the manifest" in restored
    assert "audit log verified" in restored

    manifest = json.loads(b.ok("backup", "--verify", str(backup), "--manifest").split("\nOK:")[0])
    counts = manifest["database"]["row_counts"]
    wanted = [*acked_before, "p0", "p24"]
    info = b.shell(f"inspect({','.join(wanted)!r})")
    assert info["audit_ok"], info["audit_problems"]
    assert set(wanted) <= set(info["usernames"])
    for name in wanted:  # readable: the key store came back with the database
        assert info["names"][name] == f"Name of {name}"
    # Exactly the snapshot: people and consents as the manifest counted them.
    assert info["users"] == counts["accounts_user"]
    assert info["consents"] == counts["consent_consentrecord"]
    assert counts["accounts_user"] >= 25 + len(acked_before)


def test_restore_drill_sqlite(make_instance, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _drill(make_instance, tmp_path, {}, {})


def test_restore_drill_postgresql(make_instance, pg_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Both the database and the key store on PostgreSQL, as several app servers run it.
    env_a = {
        "SAFEHOLD_DATABASE_URL": pg_database("drill_a"),
        "SAFEHOLD_VAULT_KEYSTORE": pg_database("keys_a"),
    }
    env_b = {
        "SAFEHOLD_DATABASE_URL": pg_database("drill_b"),
        "SAFEHOLD_VAULT_KEYSTORE": pg_database("keys_b"),
    }
    _drill(make_instance, tmp_path, env_a, env_b)


def test_restore_force_over_a_live_postgresql_installation(make_instance, pg_database) -> None:  # type: ignore[no-untyped-def]
    """Over the live database and key store (both PostgreSQL): a person shredded after the
    backup stays erased, everyone else is readable, the audit log verifies."""
    instance = make_instance(
        "live",
        SAFEHOLD_DATABASE_URL=pg_database("live"),
        SAFEHOLD_VAULT_KEYSTORE=pg_database("live_keys"),
    )
    instance.shell("fill(3)")
    backup = instance.data_dir / "before.backup"
    instance.ok("backup", "--output", str(backup))
    instance.shell("shred('p1')")
    refused = instance.run("restore", str(backup))
    assert refused.returncode != 0
    assert "already holds data" in refused.stderr
    out = instance.ok("restore", "--force", str(backup))
    assert "erasures re-applied since the backup: 1 (1 accounts closed again)" in out
    info = instance.shell("inspect('p0,p1,p2')")
    assert info["audit_ok"], info["audit_problems"]
    assert sorted(info["active"]) == ["p0", "p2"]
    assert info["names"] == {"p0": "Name of p0", "p2": "Name of p2"}
    assert list(info["erased"].values()) == ["<erased>"]
