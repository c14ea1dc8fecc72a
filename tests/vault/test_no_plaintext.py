"""Nothing personal is stored in plain text: read the raw database and look."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test import Client

from safehold.accounts.models import User
from tests.conftest import TEST_PASSWORD
from tests.helpers import safehold_env

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SECRETS = {
    "name": "Zephyrine Quillfeather",
    "address": "17 Obsidian Mews, Larkspur",
    "phone": "+447911123456",
    "phone digits": "7911123456",
    "hint": "tangerine submarine",
    "ip": "198.51.100.77",
    "browser": "Firefox 128",
}


def _needles() -> dict[str, list[bytes]]:
    needles = {}
    for label, value in SECRETS.items():
        encoded = value.encode()
        needles[label] = [encoded, encoded.hex().encode(), value.lower().encode()]
    return needles


def _make_person(client: Client) -> User:
    user = User.objects.create_user("zq", "zq@example.test", TEST_PASSWORD)
    EmailAddress.objects.create(user=user, email="zq@example.test", primary=True, verified=True)
    assert (
        client.post("/accounts/login/", {"login": "zq", "password": TEST_PASSWORD}).status_code
        == 302
    )
    client.post(
        "/account/profile/",
        {
            "name": SECRETS["name"],
            "mailing_address": SECRETS["address"],
            "phone": "+44 7911 123456",
        },
    )
    client.post(
        "/account/password-hint/", {"hint": SECRETS["hint"], "current_password": TEST_PASSWORD}
    )
    user.refresh_from_db()
    assert (user.name, user.phone, user.password_hint) == (
        SECRETS["name"],
        SECRETS["phone"],
        SECRETS["hint"],
    )
    assert user.signed_in_sessions.get().ip_address == SECRETS["ip"]
    return user


@pytest.mark.django_db
def test_no_personal_value_in_any_column_of_any_table() -> None:
    """Every column of every table, as the database returns it (SQLite or PostgreSQL)."""
    _make_person(Client(HTTP_USER_AGENT=UA, REMOTE_ADDR=SECRETS["ip"]))
    found: list[str] = []
    scanned = 0
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608  # introspected names
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, cell in zip(columns, row, strict=True):
                    if cell is None:
                        continue
                    scanned += 1
                    data = (
                        bytes(cell) if isinstance(cell, bytes | memoryview) else str(cell).encode()
                    )
                    for label, forms in _needles().items():
                        if any(form in data or form in data.lower() for form in forms):
                            found.append(f"{label} in {table}.{column}")
    assert scanned > 50
    assert found == []


def test_no_personal_value_in_the_sqlite_files_of_a_real_installation(tmp_path: Path) -> None:
    """The bytes of the database file (and its WAL) of a data directory `safehold` made."""
    data_dir = tmp_path / "data"
    env = safehold_env(data_dir)
    cmd = [sys.executable, "-m", "safehold"]
    subprocess.run([*cmd, "init"], env=env, check=True, capture_output=True)
    script = """
from django.test import Client
from tests.vault.test_no_plaintext import _make_person, UA, SECRETS
_make_person(Client(HTTP_USER_AGENT=UA, REMOTE_ADDR=SECRETS["ip"], HTTP_HOST="localhost"))
print("made")
"""
    done = subprocess.run(
        [*cmd, "shell", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "made" in done.stdout
    files = [p for p in data_dir.iterdir() if p.name.startswith("safehold.sqlite3")]
    assert files
    blob = b"".join(p.read_bytes() for p in files)
    assert len(blob) > 50_000
    assert b"zq@example.test" in blob  # the e-mail is a sign-in identifier: the scan can see text
    for label, forms in _needles().items():
        assert not any(form in blob for form in forms[:1]), f"{label} is in the database file"
