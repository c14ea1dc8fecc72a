"""Real installations in their own data directories, driven through the `safehold` command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import SAFEHOLD, run_safehold, safehold_env

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Instance:
    """One Safehold installation: a data directory and, optionally, PostgreSQL databases."""

    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_safehold(self.data_dir, *args, **self.env)

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.returncode == 0, result.stderr[-2000:] + result.stdout[-2000:]
        return result.stdout

    def shell(self, code: str) -> dict:
        """Run ``code`` (a call into tests.ops.drill) in `safehold shell`; its JSON line."""
        out = self.ok("shell", "-c", f"from tests.ops import drill; drill.{code}")
        lines = [line for line in out.splitlines() if line.startswith("{")]
        assert lines, out
        return json.loads(lines[-1])

    def writer(self, stop_file: Path, prefix: str = "w") -> Writer:
        return Writer(self, stop_file, prefix)

    @property
    def master_key(self) -> Path:
        return self.data_dir / "master.key"


class Writer:
    """A process that keeps adding people; ``acked`` lists those it saw committed."""

    def __init__(self, instance: Instance, stop_file: Path, prefix: str) -> None:
        self.stop_file = stop_file
        self.acked: list[str] = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(  # our own command
            [
                *SAFEHOLD,
                "shell",
                "-c",
                f"from tests.ops import drill; drill.write_until({str(stop_file)!r}, {prefix!r})",
            ],
            env=safehold_env(instance.data_dir, **instance.env),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            name = line.strip()
            if name and not name.startswith(("{", "4")) and " " not in name:
                with self._lock:
                    self.acked.append(name)

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self.acked)

    def wait_for(self, count: int, timeout: float = 60) -> None:
        import time

        deadline = time.monotonic() + timeout
        while len(self.snapshot()) < count:
            assert self.proc.poll() is None, self.proc.stderr.read() if self.proc.stderr else ""
            assert time.monotonic() < deadline, "the writer made no progress"
            time.sleep(0.05)

    def stop(self) -> None:
        self.stop_file.touch()
        self.proc.wait(timeout=60)
        self._thread.join(timeout=10)
        assert self.proc.returncode == 0, self.proc.stderr.read() if self.proc.stderr else ""


@pytest.fixture
def make_instance(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Make a fresh installation (``init=False``: an empty data directory)."""

    def make(
        name: str, *, init: bool = True, master_key: Path | None = None, **env: str
    ) -> Instance:
        data_dir = tmp_path / name
        data_dir.mkdir(mode=0o700)
        if master_key is not None:
            shutil.copyfile(master_key, data_dir / "master.key")
            os.chmod(data_dir / "master.key", 0o600)
        instance = Instance(data_dir, dict(env))
        if init:
            instance.ok("init")
        return instance

    return make


def _pg_base() -> str:
    url = os.environ.get("SAFEHOLD_TEST_DATABASE_URL", "").strip()
    if not url.startswith(("postgres://", "postgresql://")):
        # The SQLite run; CI runs these in its PostgreSQL run (where a server that is
        # down fails the tests that need it).
        pytest.skip("the PostgreSQL drill runs when SAFEHOLD_TEST_DATABASE_URL is PostgreSQL")
    return url.rsplit("/", 1)[0]


@pytest.fixture
def pg_database() -> Iterator:  # type: ignore[type-arg]
    """Make empty PostgreSQL databases on the test server (dropped afterwards); returns URLs."""
    import psycopg

    base = _pg_base()
    stem = (os.environ.get("SAFEHOLD_TEST_DATABASE_URL", "").rsplit("/", 1)[-1] or "h_ops")[:20]
    made: list[str] = []

    def make(label: str) -> str:
        name = f"{stem}_{label}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return f"{base}/{name}"

    yield make
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
