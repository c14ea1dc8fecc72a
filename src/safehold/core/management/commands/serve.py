"""``safehold serve``: the production server (gunicorn), never Django's runserver."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from gunicorn.app.base import BaseApplication

from safehold import conf
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


def _check_port_free(host: str, port: int) -> None:
    """Refuse a port that something already listens on. With SO_REUSEPORT a second
    server would otherwise share it silently, each answering some of the requests."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As gunicorn does: the closed connections of a server just stopped (TIME_WAIT)
        # do not hold the port; a listener still does.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


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


class _WorkerBeside:
    """One ``safehold worker`` beside gunicorn (SAFEHOLD_SERVE_WORKER), restarted if it
    exits while the server runs, and stopped gracefully (SIGTERM: it finishes its
    current job) when the server stops."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._supervise, name="worker-beside", daemon=True)

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # our own command, fixed arguments
            [sys.executable, "-m", "safehold", "worker"], stdin=subprocess.DEVNULL
        )

    def start(self) -> None:
        self.proc = self._spawn()
        self.thread.start()

    def _supervise(self) -> None:
        while not self.stopping.is_set():
            proc = self.proc
            # gunicorn's arbiter may reap the child itself; poll() then reports it gone.
            if proc is not None and proc.poll() is not None and not self.stopping.is_set():
                print(  # to serve's own console, as gunicorn does
                    "safehold serve: the background worker exited; restarting it",
                    file=sys.stderr,
                    flush=True,
                )
                if self.stopping.wait(5):
                    return
                self.proc = self._spawn()
            self.stopping.wait(1)

    def stop(self, timeout: float = 60) -> None:
        self.stopping.set()
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()  # its job's lease runs out and another worker runs it again
            proc.wait(timeout=10)


class Command(BaseCommand):
    help = "Prepare the data directory and database, then serve Safehold with gunicorn."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("SAFEHOLD_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=conf.env_int("SAFEHOLD_PORT", 8000))
        parser.add_argument(
            "--workers",
            type=int,
            default=conf.env_int("SAFEHOLD_WORKERS", 2),
            help="worker processes (default 2, or SAFEHOLD_WORKERS)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=conf.env_int("SAFEHOLD_THREADS", 16),
            help="threads per worker (default 16, or SAFEHOLD_THREADS)",
        )
        parser.add_argument(
            "--timeout", type=int, default=30, help="seconds before a stuck worker is restarted"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port, workers = options["host"], options["port"], options["workers"]
        if not 0 < port < 65536:
            raise CommandError(f"--port must be between 1 and 65535, not {port}")
        if workers < 1 or options["threads"] < 1:
            raise CommandError("--workers and --threads must be at least 1")

        reuse_port = conf.env_bool("SAFEHOLD_REUSE_PORT", True) and hasattr(socket, "SO_REUSEPORT")
        if reuse_port:
            _check_port_free(host, port)
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
            "  background jobs: one `safehold worker` beside the server"
            if settings.SAFEHOLD_SERVE_WORKER
            else "  background jobs: not run here (SAFEHOLD_SERVE_WORKER=false): "
            "run `safehold worker`",
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
        jobs = _WorkerBeside() if settings.SAFEHOLD_SERVE_WORKER else None
        if jobs is not None:
            jobs.start()
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
                # Each worker listens on a socket of its own and the kernel spreads new
                # connections over them; on one shared socket, whichever worker woke
                # first took most of a burst of kept-alive connections and capped the
                # whole server at one busy process (bench/README.md, Consent).
                "reuse_port": reuse_port,
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
            if jobs is not None:
                jobs.stop(timeout=20)
            ticker.terminate()
            ticker.wait(timeout=10)
