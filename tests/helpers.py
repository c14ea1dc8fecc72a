"""Running the real `safehold` command in tests: the CLI and a gunicorn server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SAFEHOLD = [sys.executable, "-m", "safehold"]


def safehold_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAFEHOLD_", "DJANGO_"))}
    env["SAFEHOLD_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def run_safehold(data_dir: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SAFEHOLD, *args],
        env=safehold_env(data_dir, **extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(data_dir: Path, *, workers: int = 1, **extra: str) -> Iterator[str]:
    """Run `safehold serve` (one gunicorn worker unless asked) and yield its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [*SAFEHOLD, "serve", "--port", str(port), "--workers", str(workers)],
        env=safehold_env(data_dir, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/api/v1/health", timeout=2) as response:
                    response.read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    output = proc.stdout.read() if proc.stdout else ""
                    raise RuntimeError(f"safehold serve did not start:\n{output}") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
