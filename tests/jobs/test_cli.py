"""The worker's and retention's command lines: one-line errors, a non-zero exit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import run_safehold


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["worker", "--poll", "0"], {}, "--poll must be between 0.05 and 3600 seconds"),
        (["worker", "--poll", "soon"], {}, "argument --poll: invalid float value: 'soon'"),
        (
            ["worker", "--once"],
            {"SAFEHOLD_JOBS_POLL_SECONDS": "often"},
            "SAFEHOLD_JOBS_POLL_SECONDS must be a number of seconds, not 'often'",
        ),
        (
            ["retention"],
            {"SAFEHOLD_RETAIN_FINISHED_JOBS_DAYS": "0"},
            "SAFEHOLD_RETAIN_FINISHED_JOBS_DAYS must be at least 1, not 0",
        ),
        (["retention", "--wet"], {}, "unrecognized arguments: --wet"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    done = run_safehold(tmp_path, *args, **env)
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1, done.stderr
    assert message in errors[0]
    assert "Traceback" not in done.stderr


def test_once_drains_the_queue_and_dry_run_lists_the_rules(tmp_path: Path) -> None:
    assert run_safehold(tmp_path, "migrate", "-v0").returncode == 0
    dry = run_safehold(tmp_path, "retention", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "finished-jobs" in dry.stdout
    assert "api-idempotency" in dry.stdout
    once = run_safehold(tmp_path, "worker", "--once")
    assert once.returncode == 0, once.stderr
    # Every periodic task is due on the first start, the daily retention among them.
    assert re.fullmatch(r"\d+ jobs run \(\d+ periodic enqueued\)\n", once.stdout)
    assert "jobs.retention" in once.stderr  # its one log line
