"""Key rotation: a new KEK, every data key re-wrapped, reads and writes going on, resumable."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from safehold.accounts.models import User
from safehold.vault import keys
from safehold.vault.keystore import get_keystore
from tests.helpers import safehold_env

pytestmark = pytest.mark.django_db


def _people(n: int, start: int = 0) -> list[User]:
    return [
        User.objects.create_user(
            f"p{i}",
            f"p{i}@example.test",
            "Long-enough-pass-77",
            name=f"Person {i}",
            phone=f"+86139{i:08d}",
        )
        for i in range(start, start + n)
    ]


def _read_all(people: list[User]) -> list[str]:
    keys.forget_cached_keys()
    return [User.objects.get(pk=p.pk).name for p in people]


def _live_by_version() -> dict[int, int]:
    return {v: live for v, (live, _) in get_keystore().count_by_version().items() if live}


def test_rotation_rewraps_every_data_key_and_retires_the_old_kek() -> None:
    people = _people(12)
    before = keys.active_kek_version()
    result = keys.rotate(batch_size=5)
    assert result.version == before + 1
    assert not result.resumed
    assert result.rewrapped >= 12
    assert set(_live_by_version()) == {before + 1}
    assert _read_all(people) == [f"Person {i}" for i in range(12)]
    states = {row.version: row.state for row in keys.status()}
    assert states[before] == "retired"
    assert states[before + 1] == "active"
    # The old KEK's wrapping material is kept, so older key-store backups stay readable.
    assert get_keystore().kek(before) is not None


def test_interrupted_rotation_keeps_everything_readable_and_resumes() -> None:
    people = _people(10)
    keys.rotate()  # start from a clean state: everything on one KEK
    old = keys.active_kek_version()
    batches = {"n": 0}

    def stop_after_two_batches() -> bool:
        batches["n"] += 1
        return batches["n"] > 2

    first = keys.rotate(batch_size=3, should_stop=stop_after_two_batches)
    new = first.version
    assert new == old + 1
    assert first.rewrapped == 6
    split = _live_by_version()
    assert split[new] == 6
    assert split[old] >= 4
    # Reads work for people on either KEK; writes go on, and new people get the new KEK.
    assert _read_all(people) == [f"Person {i}" for i in range(10)]
    people[0].name = "Renamed mid-rotation"
    people[0].save()
    newcomer = _people(1, start=100)[0]
    assert get_keystore().data_key(newcomer.data_key).kek_version == new
    # A shredded key mid-rotation is simply skipped.
    keys.shred_data_key(people[9].data_key)

    resumed = keys.rotate(batch_size=3)
    assert resumed.resumed
    assert resumed.version == new  # finished the same rotation, no third KEK
    assert set(_live_by_version()) == {new}
    names = _read_all(people)
    assert names[0] == "Renamed mid-rotation"
    assert names[1:9] == [f"Person {i}" for i in range(1, 9)]
    assert str(names[9]) == "[erased]"
    assert {row.version: row.state for row in keys.status()}[old] == "retired"


def test_tampered_kek_or_data_key_wrapping_is_detected() -> None:
    from safehold.vault.exceptions import VaultIntegrityError

    person = _people(1)[0]
    store = get_keystore()
    stored = store.data_key(person.data_key)
    tampered = bytearray(stored.wrapped)
    tampered[-1] ^= 1
    store._execute(
        "UPDATE safehold_vault_data_key SET wrapped = ? WHERE id = ?", (bytes(tampered), stored.id)
    )
    keys.forget_cached_keys()
    with pytest.raises(VaultIntegrityError, match="data key"):
        _ = User.objects.get(pk=person.pk).name


def test_keys_command_status_rotate_and_resume_after_ctrl_c(tmp_path: Path) -> None:
    env = safehold_env(tmp_path / "data")
    cmd = [sys.executable, "-m", "safehold"]
    subprocess.run([*cmd, "init"], env=env, check=True, capture_output=True)
    subprocess.run(
        [
            *cmd,
            "shell",
            "-c",
            "from safehold.vault import keys\nfor _ in range(400): keys.create_data_key()",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    status = subprocess.run(
        [*cmd, "keys", "status"], env=env, capture_output=True, text=True, check=True
    )
    assert "active" in status.stdout
    assert "400" in status.stdout

    # One key per batch, each batch a durable commit: slow enough to interrupt.
    proc = subprocess.Popen(
        [*cmd, "keys", "rotate", "--batch-size", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    first_line = proc.stderr.readline()
    assert "/400 data keys" in first_line
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the rotation finished before the interrupt arrived")  # a very fast disk
    assert proc.returncode == 130
    assert "run `safehold keys rotate` again" in err
    assert "Traceback" not in err
    middle = subprocess.run(
        [*cmd, "keys", "status"], env=env, capture_output=True, text=True, check=True
    )
    assert "retiring" in middle.stdout

    done = subprocess.run(
        [*cmd, "keys", "rotate"], env=env, capture_output=True, text=True, check=True
    )
    assert "finished the interrupted rotation to key-encryption key version 2" in done.stdout
    final = subprocess.run(
        [*cmd, "keys", "status"], env=env, capture_output=True, text=True, check=True
    )
    lines = [line.split() for line in final.stdout.splitlines()[1:]]
    assert [(v, state, live) for v, state, live, *_ in lines] == [
        ("1", "retired", "0"),
        ("2", "active", "400"),
    ]
