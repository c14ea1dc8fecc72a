"""Rate strings such as ``600/m``, read from the settings before Django starts.

Nothing here imports Django, so settings.py can check ``SAFEHOLD_API_RATE_*``
at start and stop with a one-line error that names the variable.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*([smhd])\s*$")


class Rate(NamedTuple):
    """At most ``limit`` requests in each fixed window of ``period`` seconds."""

    limit: int
    period: int

    def __str__(self) -> str:
        unit = {v: k for k, v in _PERIODS.items()}[self.period]
        return f"{self.limit}/{unit}"


def parse_rate(name: str, text: str) -> Rate:
    """Read ``text`` (``<count>/<s|m|h|d>``, count at least 1) for the setting ``name``.

    Raises ``safehold.conf.ConfigError`` naming the setting if it cannot be read.
    """
    from safehold.conf import ConfigError

    match = _RATE.match(text)
    if not match or int(match.group(1)) < 1:
        raise ConfigError(
            f"{name} must be a count per second, minute, hour or day, like 600/m, not {text!r}"
        )
    return Rate(int(match.group(1)), _PERIODS[match.group(2)])
