from __future__ import annotations

import pytest

from tests.conftest import TEST_PASSWORD

BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def sign_in():  # type: ignore[no-untyped-def]
    """Sign a test client in through the real form, from a given browser."""

    def go(client, login="alice", user_agent=BROWSER_UA, ip="8.8.8.8"):  # type: ignore[no-untyped-def]
        client.defaults["HTTP_USER_AGENT"] = user_agent
        client.defaults["REMOTE_ADDR"] = ip
        response = client.post("/accounts/login/", {"login": login, "password": TEST_PASSWORD})
        assert response.status_code == 302, response.content[:300]
        return client

    return go
