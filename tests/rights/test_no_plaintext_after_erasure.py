"""After erasure nothing readable about the person is in the database file: the bytes of
the SQLite file (and its write-ahead log) of a real installation, as the vault test reads them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import run_safehold, safehold_env
from tests.vault.test_no_plaintext import SECRETS

SCRIPT = """
from datetime import timedelta
from django.test import Client
from allauth.account.models import EmailAddress
from safehold.accounts.models import User
from safehold.audit.services import Actor
from safehold.jobs.worker import run_pending
from safehold.rights import services
from tests.conftest import TEST_PASSWORD
from tests.vault.test_no_plaintext import _make_person, UA, SECRETS

person = _make_person(Client(HTTP_USER_AGENT=UA, REMOTE_ADDR=SECRETS["ip"], HTTP_HOST="localhost"))
bob = User.objects.create_user("bob", "bob.keeps@example.test", TEST_PASSWORD)
EmailAddress.objects.create(user=bob, email="bob.keeps@example.test", primary=True, verified=True)
services.request_erasure(person, actor=Actor.system(), grace=timedelta(0))
run_pending()
person.refresh_from_db()
assert not person.is_active
print("erased")
"""


def test_nothing_about_the_person_is_left_in_the_sqlite_files(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = safehold_env(data_dir)
    cmd = [sys.executable, "-m", "safehold"]
    subprocess.run([*cmd, "init"], env=env, check=True, capture_output=True)
    done = subprocess.run(
        [*cmd, "shell", "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "erased" in done.stdout
    files = [p for p in data_dir.iterdir() if p.name.startswith("safehold.sqlite3")]
    blob = b"".join(p.read_bytes() for p in files)
    assert len(blob) > 50_000
    assert b"bob.keeps@example.test" in blob  # the scan sees plain text where there is some
    needles = {**SECRETS, "e-mail": "zq@example.test"}
    for label, value in needles.items():
        assert value.encode() not in blob, f"the person's {label} is in the database file"
        assert value.lower().encode() not in blob.lower(), f"the person's {label} is in the file"
    verified = run_safehold(data_dir, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
