"""Rights fixtures: a person with something of every kind, and reading an archive back."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from safehold.accounts.models import User
from safehold.rights import services
from safehold.rights.models import Export
from tests.api.conftest import make_key  # noqa: F401  # fixtures for the API tests
from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import browser, new_context, recorder  # noqa: F401  # browser test
from tests.jobs.test_processes import site  # noqa: F401  # worker processes

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SECRETS = {
    "name": "Zephyrine Quillfeather",
    "address": "17 Obsidian Mews, Larkspur",
    "phone": "+447911123456",
    "email": "zq.quillfeather@example.test",
    "ip": "198.51.100.77",
}
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@dataclass
class Archive:
    files: dict[str, bytes]

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.files["data.json"])

    @property
    def html(self) -> str:
        return self.files["index.html"].decode()


def read_archive(export: Export) -> Archive:
    """Open an export's sealed archive as the download does, and unzip it."""
    export.refresh_from_db()
    key = services.download_key(export, export.user)
    source, chunks = services.archive_chunks(export, key)
    with source:
        blob = b"".join(chunks)  # type: ignore[attr-defined]  # an iterator of bytes
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        return Archive({name: archive.read(name) for name in archive.namelist()})


def signed_in_client(
    username: str, password: str = TEST_PASSWORD, *, ip: str = SECRETS["ip"]
) -> Client:
    client = Client(HTTP_USER_AGENT=UA, REMOTE_ADDR=ip)
    response = client.post("/accounts/login/", {"login": username, "password": password})
    assert response.status_code == 302, response.content[:300]
    if response["Location"].startswith("/accounts/2fa/authenticate"):
        # A recovery code each time: a TOTP code is refused twice in one 30-second window.
        from allauth.mfa.models import Authenticator
        from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

        codes = Authenticator.objects.get(user__username=username, type="recovery_codes")
        code = RecoveryCodes(codes).get_unused_codes()[0]
        response = client.post("/accounts/2fa/authenticate/", {"code": code})
        assert response.status_code == 302, response.content[:300]
    return client


def reauthenticate(
    client: Client, url: str = "/accounts/reauthenticate/", password: str = TEST_PASSWORD
) -> Any:
    """Answer allauth's "confirm it is you" (at ``url``, which carries ``next``) with the
    password; returns the response."""
    return client.post(url, {"password": password})


@pytest.fixture
def person(make_user) -> User:  # type: ignore[no-untyped-def]
    """Zephyrine, signed in once from Firefox, with a full profile, a second address,
    a TOTP authenticator and recovery codes."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP

    user = make_user("zq", email=SECRETS["email"])
    client = signed_in_client("zq")
    response = client.post(
        "/account/profile/",
        {
            "name": SECRETS["name"],
            "mailing_address": SECRETS["address"],
            "phone": "+44 7911 123456",
        },
    )
    assert response.status_code == 302
    EmailAddress.objects.create(user=user, email="zq.other@example.test", verified=False)
    TOTP.activate(user, TOTP_SECRET)
    RecoveryCodes.activate(user)
    user.refresh_from_db()
    assert user.name == SECRETS["name"]
    return user


@pytest.fixture
def travel(monkeypatch):  # type: ignore[no-untyped-def]
    """``travel(timedelta)`` moves the rights services' and the job queue's clocks on."""
    from datetime import datetime as real_datetime

    from django.utils import timezone

    from safehold.jobs import queue

    def go(delta: Any) -> real_datetime:
        moved = timezone.now() + delta
        monkeypatch.setattr(services, "_now", lambda: moved)
        monkeypatch.setattr(queue, "_now", lambda: moved)
        return moved

    return go


def scan_columns(needles: dict[str, str]) -> list[str]:
    """Every column of every table, as the database returns it: where each needle is."""
    from django.db import connection

    found: list[str] = []
    forms = {
        label: [v.encode(), v.lower().encode(), v.encode().hex().encode()]
        for label, v in needles.items()
    }
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608  # introspected names
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, cell in zip(columns, row, strict=True):
                    if cell is None:
                        continue
                    data = (
                        bytes(cell) if isinstance(cell, bytes | memoryview) else str(cell).encode()
                    )
                    for label, variants in forms.items():
                        if any(v in data or v in data.lower() for v in variants):
                            found.append(f"{label} in {table}.{column}")
    return found
