"""The `safehold` command as an operator runs it: a real gunicorn, a fresh data directory."""

from __future__ import annotations

import re
import stat
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import SAFEHOLD, free_port, safehold_env


def test_serve_first_start_creates_private_keys_and_serves_with_gunicorn(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    proc = subprocess.Popen(
        [*SAFEHOLD, "serve", "--port", str(port), "--workers", "2"],
        env=safehold_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body, headers = b"", {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    body, headers = response.read(), dict(response.headers)
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.3)
        assert body, "the server did not answer within 60 s"
        assert b"SMM" in body
        assert headers["Server"].startswith("gunicorn")
        # Two workers, not runserver: the master forked worker processes; beside them
        # run the audit checkpoint ticker and one background-job worker.
        workers: list[str] = []
        tickers: list[str] = []
        job_workers: list[str] = []
        for _ in range(100):
            children = subprocess.run(
                ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True, check=False
            ).stdout.split()
            commands = {
                pid: Path(f"/proc/{pid}/cmdline").read_bytes()
                for pid in children
                if Path(f"/proc/{pid}/cmdline").exists()
            }
            tickers = [pid for pid, cmd in commands.items() if b"checkpoint" in cmd]
            job_workers = [
                pid for pid, cmd in commands.items() if cmd.split(b"\0")[-2:] == [b"worker", b""]
            ]
            workers = [pid for pid in commands if pid not in tickers and pid not in job_workers]
            if len(workers) == 2 and len(tickers) == 1 and len(job_workers) == 1:
                break
            time.sleep(0.1)
        assert len(workers) == 2
        assert len(tickers) == 1
        assert len(job_workers) == 1
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=30)

    assert f"http://127.0.0.1:{port}/" in output
    assert f"written as files to {data_dir / 'mail'}" in output
    assert "safehold createadmin" in output
    assert "Traceback" not in output
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    for name in ("secret.key", "master.key"):
        assert stat.S_IMODE((data_dir / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE((data_dir / "safehold.sqlite3").stat().st_mode) == 0o600


def test_keys_are_never_overwritten_on_a_later_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    subprocess.run([*SAFEHOLD, "init"], env=safehold_env(data_dir), check=True, capture_output=True)
    first = (data_dir / "master.key").read_bytes(), (data_dir / "secret.key").read_bytes()
    subprocess.run([*SAFEHOLD, "init"], env=safehold_env(data_dir), check=True, capture_output=True)
    assert ((data_dir / "master.key").read_bytes(), (data_dir / "secret.key").read_bytes()) == first


def test_createadmin_then_the_admin_can_sign_in(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = safehold_env(data_dir, SAFEHOLD_ADMIN_PASSWORD="Quiet-harbour-lantern-7")
    subprocess.run([*SAFEHOLD, "init"], env=env, check=True, capture_output=True)
    done = subprocess.run(
        [
            *SAFEHOLD,
            "createadmin",
            "--username",
            "root",
            "--email",
            "root@example.test",
            "--no-input",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    again = subprocess.run(
        [
            *SAFEHOLD,
            "createadmin",
            "--username",
            "root",
            "--email",
            "r2@example.test",
            "--no-input",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode != 0
    assert again.stderr.strip().count("\n") == 0
    assert "taken" in again.stderr
    weak = subprocess.run(
        [
            *SAFEHOLD,
            "createadmin",
            "--username",
            "bob",
            "--email",
            "bob@example.test",
            "--no-input",
        ],
        env=safehold_env(data_dir, SAFEHOLD_ADMIN_PASSWORD="password"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert weak.returncode != 0
    assert "too short" in weak.stderr or "too common" in weak.stderr
    check = subprocess.run(
        [
            *SAFEHOLD,
            "shell",
            "-c",
            "from safehold.accounts.models import User;u=User.objects.get(username='root');"
            "print(u.is_superuser, u.check_password('Quiet-harbour-lantern-7'),"
            " u.emailaddress_set.get().verified)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert check.stdout.strip().splitlines()[-1].split() == ["True", "True", "True"]


@pytest.mark.parametrize(
    ("args", "env_extra", "expect"),
    [
        (["nosuchcommand"], {}, "unknown command"),
        (["serve", "--port", "70000"], {}, "--port must be between 1 and 65535"),
        (["check"], {"SAFEHOLD_DEBUG": "maybe"}, "SAFEHOLD_DEBUG must be true or false"),
        (
            ["migrate"],
            {"SAFEHOLD_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
            "OperationalError",
        ),
    ],
)
def test_errors_are_one_line_and_a_nonzero_exit(tmp_path: Path, args, env_extra, expect) -> None:  # type: ignore[no-untyped-def]
    done = subprocess.run(
        [*SAFEHOLD, *args],
        env=safehold_env(tmp_path / "d", **env_extra),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert expect in lines[0]


def test_check_deploy_in_production_mode_leaves_only_https_warnings(tmp_path: Path) -> None:
    done = subprocess.run(
        [*SAFEHOLD, "check", "--deploy", "--fail-level", "WARNING"],
        env=safehold_env(tmp_path / "d"),
        capture_output=True,
        text=True,
        check=False,
    )
    codes = set(re.findall(r"security\.(W\d{3})", done.stderr))
    # Plain-HTTP localhost cannot have HSTS (W004), an HTTPS redirect (W008) or
    # secure session and CSRF cookies (W012, W016); nothing else may be reported.
    assert codes <= {"W004", "W008", "W012", "W016"}, done.stderr
    assert "security.W018" not in done.stderr  # DEBUG is off
    assert "security.W009" not in done.stderr  # the secret key is strong

    https = subprocess.run(
        [*SAFEHOLD, "check", "--deploy", "--fail-level", "WARNING"],
        env=safehold_env(tmp_path / "d", SAFEHOLD_HTTPS="true", SAFEHOLD_HSTS_PRELOAD="true"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert https.returncode == 0, https.stderr
