"""``safehold keys status`` and ``safehold keys rotate``."""

from __future__ import annotations

import signal
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from safehold.vault import keys
from safehold.vault.exceptions import VaultError


class _Progress:
    """A one-line progress bar on standard error (plain lines when not a terminal)."""

    def __init__(self, stream: Any, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self.last_line = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.tty and now - self.last_line < 1 and done < total:
            return
        self.last_line = now
        share = done / total if total else 1.0
        filled = int(share * self.width)
        rate = done / max(now - self.started, 1e-9)
        bar = "#" * filled + "." * (self.width - filled)
        line = f"[{bar}] {done}/{total} data keys ({rate:,.0f}/s)"
        self.stream.write(("\r" + line) if self.tty else (line + "\n"))
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")


class Command(BaseCommand):
    help = (
        "Show the key hierarchy (status), or re-wrap every data key "
        "under a new key-encryption key (rotate)."
    )

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="KEK versions and how many data keys each wraps")
        rotate = sub.add_parser(
            "rotate", help="new KEK, re-wrap every data key (resumes an interrupted run)"
        )
        rotate.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "status":
                self.status()
            else:
                self.rotate(options["batch_size"])
        except VaultError as exc:
            raise CommandError(str(exc)) from None

    def status(self) -> None:
        rows = keys.status()
        if not rows:
            self.stdout.write("no key-encryption key yet (one is made with the first data key)")
            return
        self.stdout.write(
            f"{'version':>7}  {'state':<9} {'live keys':>10} {'shredded':>9}  created (UTC)"
        )
        for row in rows:
            self.stdout.write(
                f"{row.version:>7}  {row.state:<9} {row.live_keys:>10} "
                f"{row.shredded_keys:>9}  {row.created_at[:19]}"
            )

    def rotate(self, batch_size: int) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        stop = {"asked": False}

        def ask_to_stop(signum: int, frame: Any) -> None:
            stop["asked"] = True

        previous = signal.signal(signal.SIGINT, ask_to_stop)
        previous_term = signal.signal(signal.SIGTERM, ask_to_stop)
        progress = _Progress(sys.stderr)
        try:
            result = keys.rotate(
                batch_size=batch_size, progress=progress, should_stop=lambda: stop["asked"]
            )
        finally:
            progress.close()
            signal.signal(signal.SIGINT, previous)
            signal.signal(signal.SIGTERM, previous_term)
        if stop["asked"]:
            self.stderr.write(
                f"interrupted after re-wrapping {result.rewrapped} data keys; "
                "run `safehold keys rotate` again to finish "
                "(nothing is lost; reads and writes go on)"
            )
            raise SystemExit(130)
        verb = "finished the interrupted rotation to" if result.resumed else "rotated to"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} key-encryption key version {result.version}: "
                f"{result.rewrapped} data keys re-wrapped"
            )
        )
