"""The promise map: every clause of the statement with its registered checks and results.

Checks can be slow (the audit check reads the whole log), so results are kept in the
cache for ``SAFEHOLD_PROMISES_CACHE_SECONDS`` and recomputed on demand ("run now",
``safehold promises``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone, translation
from django.utils.functional import Promise as LazyStr

from safehold.core import promises
from safehold.core.promises import Result, Status

_CACHE_KEY = "policy:promise-results:v1"


@dataclass(frozen=True)
class Row:
    id: str
    clause: str
    title: str | LazyStr
    status: Status
    detail: str


@dataclass(frozen=True)
class Clause:
    id: str
    title: str | LazyStr
    rows: list[Row]


@dataclass(frozen=True)
class PromiseMap:
    clauses: list[Clause]
    checked_at: datetime

    @property
    def broken(self) -> list[Row]:
        return [r for c in self.clauses for r in c.rows if r.status == Status.BROKEN]

    def count(self, status: Status) -> int:
        return sum(1 for c in self.clauses for r in c.rows if r.status == status)


def _run_all() -> tuple[dict[str, tuple[str, str]], datetime]:
    results = {}
    for promise in promises.all_promises():
        result: Result = promise.run()
        results[promise.id] = (str(result.status), str(result.detail))
    return results, timezone.now()


def results(*, fresh: bool = False) -> PromiseMap:
    """Every clause of the statement, in order, with its promises' results.

    ``fresh`` runs every check now; otherwise cached results are used when recent. A
    promise registered since the cache was filled is run at once.
    """
    # Details are words in the reader's language: one cache entry per language.
    key = f"{_CACHE_KEY}:{translation.get_language() or settings.LANGUAGE_CODE}"
    cached: Any = None if fresh else cache.get(key)
    if cached is None or any(p.id not in cached[0] for p in promises.all_promises()):
        cached = _run_all()
        cache.set(key, cached, settings.SAFEHOLD_PROMISES_CACHE_SECONDS)
    outcome, checked_at = cached
    by_clause: dict[str, list[Row]] = {clause: [] for clause in promises.CLAUSES}
    for promise in promises.all_promises():
        status, detail = outcome[promise.id]
        by_clause[promise.clause].append(
            Row(promise.id, promise.clause, promise.title, Status(status), detail)
        )
    return PromiseMap(
        [Clause(cid, title, by_clause[cid]) for cid, title in promises.CLAUSES.items()],
        checked_at,
    )
