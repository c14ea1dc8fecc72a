"""Fixed-window rate limits in Django's cache.

With ``SAFEHOLD_REDIS_URL`` the cache is Redis, whose ``INCR`` is atomic, so every
app server counts against the same windows. The embedded default (a file cache in
the data directory) is shared by the workers of one machine; its increments are
not atomic, so under heavy concurrency it may let a few requests too many through.
"""

from __future__ import annotations

import math
import time

from django.core.cache import BaseCache, caches

from safehold.api.exceptions import RateLimited
from safehold.api.rates import Rate


def _clock() -> float:
    """The time seam for tests."""
    return time.time()


def hit(
    bucket: str,
    rate: Rate,
    *,
    cache: BaseCache | None = None,
    prefix: str = "api:rl",
    now: float | None = None,
) -> int | None:
    """Count one request against ``bucket`` (``key:12``, ``ip:192.0.2.1``).

    Returns None if it is within ``rate``, else the whole seconds until the
    window ends (at least 1), for ``Retry-After``. Other limits (the contact form)
    count under a ``prefix`` of their own.
    """
    cache = cache or caches["default"]
    now = _clock() if now is None else now
    window = int(now // rate.period)
    name = f"{prefix}:{bucket}:{rate.period}:{window}"
    # add() then incr(): the counter is created once and only ever incremented.
    cache.add(name, 0, timeout=rate.period + 5)
    try:
        count = cache.incr(name)
    except ValueError:  # it expired between add() and incr()
        cache.add(name, 1, timeout=rate.period + 5)
        count = 1
    if count <= rate.limit:
        return None
    return max(1, math.ceil((window + 1) * rate.period - now))


def enforce(bucket: str, rate: Rate) -> None:
    """Count one request; raise ``RateLimited`` (429 with Retry-After) if over ``rate``."""
    wait = hit(bucket, rate)
    if wait is not None:
        raise RateLimited(wait)
