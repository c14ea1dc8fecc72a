"""``safehold backup [--output FILE]`` and ``safehold backup --verify FILE``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from safehold.audit.services import Actor
from safehold.ops import backups, services
from safehold.ops.exceptions import BackupError


class Command(BaseCommand):
    help = (
        "Write an encrypted, verified backup of the database and key store while the site "
        "serves; or check one with --verify FILE."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--output", type=Path, help="where to write it (default: a new file in the backup dir)"
        )
        parser.add_argument(
            "--verify", type=Path, metavar="FILE", help="check a backup instead of making one"
        )
        parser.add_argument(
            "--no-verify",
            action="store_true",
            help="do not verify the new backup straight after writing it",
        )
        parser.add_argument("--manifest", action="store_true", help="print the manifest (JSON)")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system()
        try:
            if options["verify"]:
                report = services.verify_backup(options["verify"], actor=actor)
                if options["manifest"]:
                    self.stdout.write(backups.manifest_json(report.manifest))
                if not report.ok:
                    raise CommandError(
                        f"the backup does not match its manifest: {report.problems[0]}"
                        + (
                            f" (and {len(report.problems) - 1} more)"
                            if len(report.problems) > 1
                            else ""
                        )
                    )
                self.stdout.write(f"OK: {backups.describe(report.manifest)}")
                self.stdout.write("checksum, decryption, database and row counts verified")
                return
            if options["output"] is not None and options["output"].exists():
                raise CommandError(f"{options['output']} exists already: choose another name")
            result = services.make_backup(actor=actor, output=options["output"])
            self.stdout.write(f"wrote {result.path} ({result.size} bytes, {result.seconds:.1f} s)")
            self.stdout.write(backups.describe(result.manifest))
            if options["manifest"]:
                self.stdout.write(backups.manifest_json(result.manifest))
            if not options["no_verify"]:
                report = services.verify_backup(result.path, actor=actor)
                if not report.ok:
                    raise CommandError(f"the new backup failed verification: {report.problems[0]}")
                self.stdout.write("verified: the backup opens and its row counts match")
        except BackupError as exc:
            raise CommandError(str(exc)) from None
