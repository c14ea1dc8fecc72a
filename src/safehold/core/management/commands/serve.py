"""``safehold serve``: the production server (gunicorn), never Django's runserver."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from gunicorn.app.base import BaseApplication

from safehold.core.management.commands.init import initialise


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from safehold.wsgi import application

        return application


def describe_mail() -> str:
    if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
        return f"written as files to {settings.EMAIL_FILE_PATH} (set SAFEHOLD_SMTP_HOST to send it)"
    if settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"):
        return f"sent through SMTP at {settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    return f"handled by {settings.EMAIL_BACKEND}"


def describe_database() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite at {db['NAME']}"
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    return f"{engine} database {db.get('NAME')!s} on {db.get('HOST') or 'local socket'}"


class Command(BaseCommand):
    help = "Prepare the data directory and database, then serve Safehold with gunicorn."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("SAFEHOLD_HOST", "127.0.0.1"))
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("SAFEHOLD_PORT", "8000"))
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("SAFEHOLD_WORKERS", "2")),
            help="worker processes (default 2, or SAFEHOLD_WORKERS)",
        )
        parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
        parser.add_argument(
            "--timeout", type=int, default=30, help="seconds before a stuck worker is restarted"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port, workers = options["host"], options["port"], options["workers"]
        if not 0 < port < 65536:
            raise CommandError(f"--port must be between 1 and 65535, not {port}")
        if workers < 1 or options["threads"] < 1:
            raise CommandError("--workers and --threads must be at least 1")

        created = initialise()
        shown_host = f"[{host}]" if ":" in host else host
        lines = [
            f"Safehold is serving {settings.SAFEHOLD_OPERATOR_NAME}'s site on "
            f"http{'s' if settings.SAFEHOLD_HTTPS else ''}://{shown_host}:{port}/",
            f"  server:         gunicorn, {workers} workers x {options['threads']} threads",
            f"  data directory: {settings.DATA_DIR}"
            + (" (new: secret key and master key created, mode 0600)" if created else ""),
            f"  database:       {describe_database()}",
            f"  outgoing mail:  {describe_mail()}",
        ]
        if not get_user_model().objects.filter(is_superuser=True).exists():
            lines.append("  no administrator yet: create one with `safehold createadmin`")
        if host not in ("127.0.0.1", "localhost", "::1") and "*" not in settings.ALLOWED_HOSTS:
            lines.append(
                "  note: add this server's public name to SAFEHOLD_ALLOWED_HOSTS, "
                "and serve it behind HTTPS (SAFEHOLD_HTTPS=true)"
            )
        self.stdout.write("\n".join(lines))
        self.stdout.flush()

        # No database connection may be shared across the fork into workers.
        connections.close_all()
        # The audit log is checkpointed (signed) at least once a minute while it grows.
        ticker = subprocess.Popen(  # our own command, fixed arguments
            [sys.executable, "-m", "safehold", "audit", "checkpoint", "--every", "60"],
            stdout=subprocess.DEVNULL,
        )
        access_log = os.environ.get("SAFEHOLD_ACCESS_LOG", "").strip() or None
        server = _Gunicorn(
            {
                "bind": f"{shown_host}:{port}",
                "workers": workers,
                "threads": options["threads"],
                "worker_class": "gthread",
                "timeout": options["timeout"],
                "graceful_timeout": 20,
                # An access log holds every visitor's IP address: off unless asked for.
                "accesslog": access_log,
                "errorlog": "-",
                "loglevel": "warning",
                "proc_name": "safehold",
                "limit_request_line": 8190,
                "limit_request_fields": 100,
                "forwarded_allow_ips": "127.0.0.1,::1"
                if settings.SAFEHOLD_TRUSTED_PROXY_COUNT
                else "",
            }
        )
        try:
            server.run()
        finally:
            ticker.terminate()
            ticker.wait(timeout=10)
