"""Fixed-window rate limits in Django's cache.

With ``SAFEHOLD_REDIS_URL`` the cache is Redis, whose ``INCR`` is atomic, so every
app server counts against the same windows. The embedded default (a file cache in
the data directory) is shared by the workers of one machine; its increments are
not atomic, so under heavy concurrency it may let a few requests too many through.

Writing the shared counter on every request costs a cache write per API request (in
the embedded default, a file rewritten and renamed). So each process adds its own
requests up and writes the sum every ``1/FLUSH_PARTS`` of the limit, and at once
whenever its estimate (the shared count it last saw plus its own unwritten ones)
passes the limit: a refusal is always decided on the shared count. A limit of
``FLUSH_PARTS`` or less is counted exactly; a larger one may let each process
through up to ``limit/FLUSH_PARTS`` requests more in a window (3 % per process).
"""

from __future__ import annotations

import math
import threading
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
    every = rate.limit // FLUSH_PARTS
    if every <= 1:
        count = _count(cache, name, 1, rate)
    else:
        local = (id(cache), name)
        with _lock:
            entry = _unwritten.get(local)
            if entry is None:
                if len(_unwritten) >= _MAX_LOCAL:
                    _forget_old(window)
                entry = _unwritten[local] = [window, 0, 0]
            entry[1] += 1
            if entry[1] < every and entry[1] + entry[2] <= rate.limit:
                return None
            adding, entry[1] = entry[1], 0
        count = _count(cache, name, adding, rate)
        with _lock:
            entry[2] = max(entry[2], count)
    if count <= rate.limit:
        return None
    return max(1, math.ceil((window + 1) * rate.period - now))


#: A larger limit is counted in this process and written in this many parts.
FLUSH_PARTS = 32
_MAX_LOCAL = 10_000
_lock = threading.Lock()
# (cache, counter name) -> [window, requests not yet written, shared count last seen]
_unwritten: dict[tuple[int, str], list[int]] = {}


def _count(cache: BaseCache, name: str, adding: int, rate: Rate) -> int:
    """Add ``adding`` to the shared counter ``name``; return its new value."""
    # add() then incr(): the counter is created once and only ever incremented.
    cache.add(name, 0, timeout=rate.period + 5)
    try:
        return int(cache.incr(name, adding))
    except ValueError:  # it expired between add() and incr()
        cache.add(name, adding, timeout=rate.period + 5)
        return adding


def _forget_old(window: int) -> None:
    """Drop counts of windows that have ended (called with ``_lock`` held)."""
    for local in [k for k, entry in _unwritten.items() if entry[0] < window]:
        del _unwritten[local]
    if len(_unwritten) >= _MAX_LOCAL:  # still full: the unwritten counts are lost
        _unwritten.clear()


def enforce(bucket: str, rate: Rate) -> None:
    """Count one request; raise ``RateLimited`` (429 with Retry-After) if over ``rate``."""
    wait = hit(bucket, rate)
    if wait is not None:
        raise RateLimited(wait)
