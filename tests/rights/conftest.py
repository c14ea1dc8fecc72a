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
from tests.conftest import TEST_PASSWORD

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


def signed_in_client(username: str, password: str = TEST_PASSWORD) -> Client:
    client = Client(HTTP_USER_AGENT=UA, REMOTE_ADDR=SECRETS["ip"])
    response = client.post("/accounts/login/", {"login": username, "password": password})
    assert response.status_code == 302, response.content[:300]
    if response["Location"].startswith("/accounts/2fa/authenticate"):
        import pyotp

        code = pyotp.TOTP(TOTP_SECRET).now()
        response = client.post("/accounts/2fa/authenticate/", {"code": code})
        assert response.status_code == 302, response.content[:300]
    return client


def reauthenticate(client: Client, password: str = TEST_PASSWORD) -> Any:
    """Answer allauth's "confirm it is you" with the password; returns the response."""
    return client.post("/accounts/reauthenticate/", {"password": password})


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
