"""``safehold restore FILE [--force] [--erasures LEDGER]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from safehold.audit.services import Actor
from safehold.ops import backups, services
from safehold.ops.exceptions import BackupError


class Command(BaseCommand):
    help = (
        "Restore a backup into an empty data directory or database (--force replaces a "
        "live one: stop the server first), re-apply every erasure made since, and verify "
        "the audit log."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace the database and key store even though they hold data",
        )
        parser.add_argument(
            "--erasures",
            type=Path,
            action="append",
            default=[],
            metavar="LEDGER",
            help="a copy of the erasure ledger to re-apply as well (repeatable)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            outcome = services.restore_backup(
                options["file"],
                actor=Actor.system(),
                force=options["force"],
                extra_ledgers=options["erasures"],
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        result = outcome.result
        self.stdout.write(f"restored {backups.describe(result.manifest)}")
        if result.count_problems:
            self.stdout.write(f"row counts differ from the manifest: {result.count_problems[0]}")
        else:
            self.stdout.write("row counts match the manifest")
        self.stdout.write(
            f"erasures re-applied since the backup: {outcome.reapplied} "
            f"({outcome.accounts_erased} accounts closed again)"
        )
        self.stdout.write(f"audit signing key: {result.signing_key}")
        if not outcome.audit_ok:
            raise CommandError(
                f"the restored audit log does not verify: {outcome.audit_problems[0]}"
            )
        self.stdout.write(f"audit log verified: {outcome.audit_events} events")
        if result.count_problems:
            raise CommandError("the restored row counts do not match the manifest")
