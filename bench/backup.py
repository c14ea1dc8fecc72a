"""Backup, verify and restore time and size for 100,000 people.

    python bench/backup.py [--people 100000] [--rounds 3]

Fills a fresh data directory (SQLite, production settings) with people whose rows are
what the app writes: every personal field sealed under the person's own data key (each
key wrapped in the key store), a blind index on the phone number, an argon2id password
hash, a verified e-mail address and a sign-up audit event. The rows go in through
Django's insert compiler, so every field's ``pre_save`` seals it exactly as ``save()``
would, but many rows per statement (the app itself saves one person at a time).

Then, each ``--rounds`` times: the baseline (a plain copy of the database and key store
files, what ``cp`` would do with the site stopped), ``safehold backup`` (snapshot,
compress, encrypt, fsync), ``safehold backup --verify`` (checksum, decrypt, integrity
check, row counts), and ``safehold restore`` into an empty data directory (a new
process, as an operator runs it). Medians, and ratios to the copy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import setup_django

ROOT = Path(__file__).resolve().parents[1]


def fill(people: int) -> None:
    from allauth.account.models import EmailAddress
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from django.contrib.auth.hashers import make_password
    from django.db import models, transaction

    from safehold.accounts.models import User
    from safehold.audit.events import EventType
    from safehold.audit.services import Actor, record_events
    from safehold.vault import keys
    from safehold.vault.keystore import get_keystore

    password = make_password("a-Long-and-unusual-passphrase-93")  # one real argon2id hash
    version = keys.active_kek_version()
    kek = keys.kek(version)
    store = get_keystore()
    batch = 2000
    started = time.perf_counter()
    for first in range(0, people, batch):
        count = min(batch, people - first)
        wrapped_rows = []
        for _ in range(count):
            key_id = os.urandom(16).hex()
            raw = AESGCM.generate_key(bit_length=256)
            wrapped_rows.append(
                (key_id, version, keys._seal(kek, raw, keys._data_key_context(key_id)))
            )
            keys._cache()[key_id] = AESGCM(raw)
        with store.transaction():
            store._connection().executemany(
                "INSERT INTO safehold_vault_data_key (id, kek_version, wrapped, created_at) "
                "VALUES (?, ?, ?, datetime('now'))",
                wrapped_rows,
            )
        users = []
        for offset, (key_id, _, _) in enumerate(wrapped_rows):
            n = first + offset
            user = User(
                username=f"person{n:06d}",
                email=f"person{n:06d}@example.test",
                password=password,
                name=f"Person Number {n:06d}",
                mailing_address=f"{n % 999 + 1} Example Road, Flat {n % 40 + 1}, 200{n % 90:02d} City",
                phone=f"+8613{n:09d}",
                password_hint="the usual one",  # noqa: S106  # sample data, not a secret
            )
            user.data_key = key_id
            user.vault_version = 1
            users.append(user)
        with transaction.atomic():
            # The plain QuerySet: VaultQuerySet refuses bulk_create in the app on purpose;
            # here every field's pre_save still seals each value under its person's key.
            created = models.QuerySet(model=User).bulk_create(users)
            EmailAddress.objects.bulk_create(
                EmailAddress(user=u, email=u.email, primary=True, verified=True) for u in created
            )
            record_events(
                [(EventType.SIGNED_UP, Actor.system(), u, {"method": "bench"}) for u in created]
            )
        keys.forget_cached_keys()
        done = first + count
        if done % 20000 == 0 or done == people:
            print(f"  {done} people, {time.perf_counter() - started:.0f} s", file=sys.stderr)


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAFEHOLD_", "DJANGO_"))}
    env["SAFEHOLD_DATA_DIR"] = str(data_dir)
    return env


def _safehold(data_dir: Path, *args: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(  # our own command
        [sys.executable, "-m", "safehold", *args],
        env=_env(data_dir),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"safehold {args[0]} failed: {result.stderr.strip()}")
    return seconds


def _startup(data_dir: Path) -> float:
    """The cost of starting the `safehold` command at all (subtracted nowhere; shown)."""
    return _safehold(data_dir, "version")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    data_dir = setup_django("safehold-bench-backup-")
    print(f"filling {args.people} people in {data_dir}", file=sys.stderr)
    started = time.perf_counter()
    fill(args.people)
    fill_seconds = time.perf_counter() - started
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    db = data_dir / "safehold.sqlite3"
    keystore = data_dir / "vault-keys.sqlite3"
    raw_size = db.stat().st_size + keystore.stat().st_size

    work = Path(tempfile.mkdtemp(prefix="safehold-bench-backup-work-"))
    timings: dict[str, list[float]] = {"copy": [], "backup": [], "verify": [], "restore": []}
    sizes: list[int] = []
    startup: list[float] = []
    for round_no in range(args.rounds):
        started = time.perf_counter()
        for source in (db, keystore):
            target = work / f"copy-{round_no}-{source.name}"
            shutil.copyfile(source, target)
            with open(target, "rb+") as handle:
                os.fsync(handle.fileno())
        timings["copy"].append(time.perf_counter() - started)

        output = work / f"round-{round_no}.backup"
        timings["backup"].append(
            _safehold(data_dir, "backup", "--no-verify", "--output", str(output))
        )
        sizes.append(output.stat().st_size)
        timings["verify"].append(_safehold(data_dir, "backup", "--verify", str(output)))

        target_dir = work / f"restored-{round_no}"
        target_dir.mkdir(mode=0o700)
        shutil.copyfile(data_dir / "master.key", target_dir / "master.key")
        timings["restore"].append(_safehold(target_dir, "restore", str(output)))
        startup.append(_startup(target_dir))
        shutil.rmtree(target_dir)

    copy = statistics.median(timings["copy"])
    print(
        f"people: {args.people}, rounds: {args.rounds}, python {sys.version.split()[0]}, "
        f"cpus {os.cpu_count()}, fill {fill_seconds:.0f} s"
    )
    print(
        f"database + key store: {raw_size / 1e6:.1f} MB; backup file: "
        f"{statistics.median(sizes) / 1e6:.1f} MB ({statistics.median(sizes) / raw_size:.2f}x)"
    )
    print(f"`safehold` start-up alone: {statistics.median(startup):.2f} s (in each command below)")
    print("| step | median s | min s | max s | ratio to file copy |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, samples in timings.items():
        median = statistics.median(samples)
        print(
            f"| {name} | {median:.2f} | {min(samples):.2f} | {max(samples):.2f} | "
            f"{median / copy:.0f}x |"
        )
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
