"""Retention limits: each app registers what it keeps no longer than needed.

    from safehold.jobs.retention import retention_rule

    retention_rule(
        "access-records",
        description="Access records (sign-ins, visits to account pages)",
        setting="SAFEHOLD_RETAIN_ACCESS_RECORDS_DAYS",   # documented in docs/configuration.md
        default_days=180,
        purge=purge_access_records,                      # (cutoff: datetime) -> rows removed
        count=count_access_records,                      # optional: (cutoff) -> rows to remove
    )

The worker's daily retention job calls each rule's ``purge`` with ``now - days``
and records one ``retention:purged`` audit event per rule with the count. A purge
removes exactly what is older than the cutoff, in batches, and is safe to run twice.
``count`` lets ``safehold retention --dry-run`` say how many rows a purge would
remove without removing them; a rule without it shows "not counted".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings


@dataclass(frozen=True)
class RetentionRule:
    name: str
    description: str
    setting: str
    default_days: int
    purge: Callable[[datetime], int]
    count: Callable[[datetime], int] | None = None

    @property
    def days(self) -> int:
        return int(getattr(settings, self.setting, self.default_days))


_rules: dict[str, RetentionRule] = {}


def retention_rule(
    name: str,
    *,
    description: str,
    setting: str,
    default_days: int,
    purge: Callable[[datetime], int],
    count: Callable[[datetime], int] | None = None,
) -> None:
    """Register (or replace) the rule ``name``; ``setting`` holds its limit in days."""
    _rules[name] = RetentionRule(name, description, setting, default_days, purge, count)


def rules() -> list[RetentionRule]:
    return [_rules[name] for name in sorted(_rules)]
