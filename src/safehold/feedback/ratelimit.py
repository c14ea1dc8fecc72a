"""Fixed-window counters in Django's cache, for the contact form.

With ``SAFEHOLD_REDIS_URL`` the cache is Redis, whose ``INCR`` is atomic, so every app
server counts against the same windows (the same pattern as ``safehold.api.ratelimit``).
Buckets are keyed by an HMAC of the IP address or e-mail address, never the value itself:
the cache holds no personal data in its key names.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time

from django.core.cache import caches

from safehold.api.rates import Rate
from safehold.vault import keys


def _clock() -> float:
    """The time seam for tests."""
    return time.time()


def bucket_name(kind: str, value: str) -> str:
    digest = hmac.new(
        keys.system_secret("contact-ratelimit-v1"), value.encode(), hashlib.sha256
    ).hexdigest()[:32]
    return f"{kind}:{digest}"


def hit(kind: str, value: str, rate: Rate) -> int | None:
    """Count one attempt for ``value`` (an IP or a folded e-mail address) under ``kind``.

    Returns None if it is within ``rate``, else the whole seconds until the window ends.
    """
    cache = caches["default"]
    now = _clock()
    window = int(now // rate.period)
    name = f"contact:rl:{bucket_name(kind, value)}:{rate.period}:{window}"
    cache.add(name, 0, timeout=rate.period + 5)
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add() and incr()
        cache.add(name, 1, timeout=rate.period + 5)
        count = 1
    if count <= rate.limit:
        return None
    return max(1, math.ceil((window + 1) * rate.period - now))
