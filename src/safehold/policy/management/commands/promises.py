"""``safehold promises``: every clause of the statement with its checks, run now.

Exits 1 if any check is BROKEN, so a cron job or a monitor can alert on it.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import translation

from safehold.core.promises import Status
from safehold.policy import promise_map

_LABELS = {Status.HOLDS: "HOLDS", Status.BROKEN: "BROKEN", Status.NOT_CHECKED: "NOT YET CHECKED"}


class Command(BaseCommand):
    help = "Run the promise map's checks and print them by clause; exit 1 if any is BROKEN."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="print JSON instead of text")
        parser.add_argument("--language", default="en", help="language of the text (en, zh-hans)")

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["language"]):
            result = promise_map.results(fresh=True)
            if options["json"]:
                self._json(result)
            else:
                self._text(result)
        if result.broken:
            raise SystemExit(1)

    def _text(self, result: promise_map.PromiseMap) -> None:
        for clause in result.clauses:
            self.stdout.write(f"{clause.title} [{clause.id}]")
            if not clause.rows:
                self.stdout.write(f"  {'NOT YET CHECKED':<16} (no check registered)")
            for row in clause.rows:
                label = _LABELS[row.status]
                styled = {
                    Status.HOLDS: self.style.SUCCESS,
                    Status.BROKEN: self.style.ERROR,
                }.get(row.status, self.style.WARNING)(f"{label:<16}")
                self.stdout.write(f"  {styled} {row.id}: {row.title}")
                if row.detail:
                    self.stdout.write(f"  {'':<16} {row.detail}")
        holds = result.count(Status.HOLDS)
        broken = result.count(Status.BROKEN)
        unchecked = result.count(Status.NOT_CHECKED)
        empty = sum(1 for c in result.clauses if not c.rows)
        self.stdout.write(
            f"{holds} hold, {broken} broken, {unchecked} not yet checked; "
            f"{empty} clauses have no check yet"
        )

    def _json(self, result: promise_map.PromiseMap) -> None:
        data = {
            "checked_at": result.checked_at.isoformat(),
            "clauses": [
                {
                    "id": c.id,
                    "title": str(c.title),
                    "promises": [
                        {
                            "id": r.id,
                            "title": str(r.title),
                            "status": str(r.status),
                            "detail": r.detail,
                        }
                        for r in c.rows
                    ],
                }
                for c in result.clauses
            ],
        }
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
