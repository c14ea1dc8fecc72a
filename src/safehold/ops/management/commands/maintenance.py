"""``safehold maintenance on --message "..." | off | status``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from safehold.audit.services import Actor
from safehold.ops import services


class Command(BaseCommand):
    help = (
        "Read-only maintenance mode: `on` closes the site to changes, sign-in and exports "
        "(staff keep the admin), `off` reopens it, `status` shows it."
    )

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        on = sub.add_parser("on", help="close the site to changes")
        on.add_argument("--message", default="", help="shown on every page (no personal data)")
        on.add_argument(
            "--retry-after",
            type=int,
            default=3600,
            metavar="SECONDS",
            help="what Retry-After tells clients (default 3600)",
        )
        sub.add_parser("off", help="reopen the site")
        sub.add_parser("status", help="say whether the site is in maintenance mode")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "status":
            state = services.maintenance_state(fresh=True)
        else:
            if action == "on" and options["retry_after"] < 1:
                from django.core.management.base import CommandError

                raise CommandError("--retry-after must be at least 1 second")
            state = services.set_maintenance(
                action == "on",
                actor=Actor.system(),
                message=options.get("message", "") or "",
                retry_after=options.get("retry_after", 3600) or 3600,
            )
        if state.is_on:
            since = state.started_at.isoformat(timespec="seconds") if state.started_at else "?"
            self.stdout.write(f"maintenance mode is ON since {since}: the site is read-only")
            if state.message:
                self.stdout.write(f"message: {state.message}")
        else:
            self.stdout.write("maintenance mode is off: the site is open")
