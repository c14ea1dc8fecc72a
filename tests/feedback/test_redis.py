"""The contact form's rate limits live in Redis when it is configured: every app server
counts against the same windows, and the key names hold no IP or e-mail address."""

from __future__ import annotations

import pytest
from django.test import Client

from safehold.api.rates import Rate
from safehold.feedback.models import ContactMessage

pytestmark = pytest.mark.django_db


def test_flood_counted_in_redis_across_servers(send, settings, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    import redis
    from django.core.cache import caches

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "safehold-feedback-test",
        }
    }
    caches["default"].clear()
    settings.SAFEHOLD_CONTACT_RATE_IP = Rate(2, 3600)
    for n in range(2):
        response = send(
            Client(REMOTE_ADDR="203.0.113.77"), {"email": f"f{n}@example.test", "body": "x"}
        )
        assert response.status_code == 302
    server = redis.Redis.from_url(redis_url)
    names = [k.decode() for k in server.keys("*safehold-feedback-test*contact:rl:*")]
    assert names, "the counters are in Redis"
    assert not any("203.0.113.77" in n or "example.test" in n for n in names)
    # Another app server: its own connection to the same Redis.
    caches["default"].close()
    del caches["default"]
    response = send(Client(REMOTE_ADDR="203.0.113.77"), {"email": "f9@example.test", "body": "x"})
    assert response.status_code == 429
    assert ContactMessage.objects.count() == 2
    caches["default"].clear()
