"""``safehold retention``: list the retention rules and what each would purge, or
purge now (the worker does it daily)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from safehold.audit.services import Actor
from safehold.jobs import queue, services
from safehold.jobs.exceptions import RetentionFailed
from safehold.jobs.retention import rules


class Command(BaseCommand):
    help = (
        "Purge data kept past its retention limit now (the worker does this daily); "
        "--dry-run lists each rule, its limit and how many rows it would purge."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be purged; change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = queue._now()
        registered = rules()
        if not registered:
            self.stdout.write("No retention rules are registered.")
            return
        if options["dry_run"]:
            self.stdout.write(f"Dry run at {now:%Y-%m-%d %H:%M} UTC; nothing is purged.")
            rows = [("rule", "limit", "purges older than", "would purge", "setting")]
            for rule in registered:
                cutoff = services.cutoff_for(rule, now)
                count = "not counted" if rule.count is None else str(rule.count(cutoff))
                rows.append(
                    (rule.name, f"{rule.days} d", f"{cutoff:%Y-%m-%d %H:%M}", count, rule.setting)
                )
            widths = [max(len(row[i]) for row in rows) for i in range(4)]
            for row in rows:
                cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
                self.stdout.write("  ".join([*cells, row[4]]))
            self.stdout.write("")
            for rule in registered:
                self.stdout.write(f"{rule.name}: {rule.description}")
            return
        try:
            purged = services.run_retention(actor=Actor.system(), now=now)
        except RetentionFailed as exc:
            raise CommandError(
                f"retention failed for {', '.join(exc.rules)} (the others ran; "
                "the log names the error)"
            ) from None
        for item in purged:
            self.stdout.write(f"  {item.rule}: {item.count} purged")
        self.stdout.write(f"Purged {sum(p.count for p in purged)} rows under {len(purged)} rules.")
