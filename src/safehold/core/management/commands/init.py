"""``safehold init``: create the data directory and its keys, migrate, collect static files."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from safehold import conf


def initialise(*, verbosity: int = 0) -> list[str]:
    """Bring the data directory and database up to date; return what was created."""
    created = conf.ensure_data_dir(settings.DATA_DIR)
    call_command("migrate", interactive=False, verbosity=verbosity)
    call_command("collectstatic", interactive=False, verbosity=0)
    return created


class Command(BaseCommand):
    help = "Create the data directory and keys if missing, apply migrations, collect static files."

    def handle(self, *args: Any, **options: Any) -> None:
        created = initialise(verbosity=max(0, options["verbosity"] - 1))
        for name in created:
            self.stdout.write(f"created {name}")
        self.stdout.write(self.style.SUCCESS(f"Safehold is ready in {settings.DATA_DIR}"))
