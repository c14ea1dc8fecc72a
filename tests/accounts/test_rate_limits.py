"""Brute force is slowed per account and per IP, in a cache every app server shares."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.test import Client

from tests.conftest import TEST_PASSWORD


def _fail_login(client: Client, login: str):  # type: ignore[no-untyped-def]
    return client.post("/accounts/login/", {"login": login, "password": "wrong-password-guess"})


@pytest.mark.django_db
def test_failed_sign_ins_lock_the_account_even_from_many_ips(alice) -> None:  # type: ignore[no-untyped-def]
    for n in range(5):
        response = _fail_login(Client(REMOTE_ADDR=f"203.0.113.{n}"), "alice")
        assert response.status_code == 200
    blocked = Client(REMOTE_ADDR="203.0.113.99").post(
        "/accounts/login/", {"login": "alice", "password": TEST_PASSWORD}
    )
    # Even the right password is refused for a while: the account is being guessed at.
    assert blocked.status_code == 200
    assert "Too many failed login attempts" in blocked.content.decode()
    # Another account is not affected.
    assert _fail_login(Client(REMOTE_ADDR="203.0.113.99"), "bob").status_code == 200


@pytest.mark.django_db
def test_failed_sign_ins_from_one_ip_are_limited_across_accounts(make_user) -> None:  # type: ignore[no-untyped-def]
    client = Client(REMOTE_ADDR="198.51.100.7")
    pages = [_fail_login(client, f"user{n}").content.decode() for n in range(11)]
    blocked = ["Too many failed login attempts" in page for page in pages]
    assert blocked == [False] * 10 + [True]  # 10 a minute per IP


@pytest.mark.django_db
def test_rate_limits_are_shared_through_redis(settings, redis_url, alice) -> None:  # type: ignore[no-untyped-def]
    """Two app servers with the same Redis see the same counters."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "safehold-test-shared",
        },
    }
    caches["default"].clear()
    for n in range(5):
        _fail_login(Client(REMOTE_ADDR=f"192.0.2.{n}"), "alice")
    # A second server: a fresh connection to the same Redis, nothing in process memory.
    import redis

    keys = redis.Redis.from_url(redis_url).keys("safehold-test-shared:*")
    assert keys, "the rate-limit counters are not in Redis"
    caches["default"].close()
    response = Client(REMOTE_ADDR="192.0.2.200").post(
        "/accounts/login/", {"login": "alice", "password": TEST_PASSWORD}
    )
    assert "Too many failed login attempts" in response.content.decode()
    caches["default"].clear()
