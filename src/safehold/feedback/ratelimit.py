"""Fixed-window counters in Django's cache, for the contact form.

With ``SAFEHOLD_REDIS_URL`` the cache is Redis, whose ``INCR`` is atomic, so every app
server counts against the same windows (``safehold.api.ratelimit`` does the counting).
Buckets are keyed by an HMAC of the IP address or e-mail address, never the value itself:
the cache holds no personal data in its key names.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from safehold.api import ratelimit
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
    return ratelimit.hit(bucket_name(kind, value), rate, prefix="contact:rl", now=_clock())
