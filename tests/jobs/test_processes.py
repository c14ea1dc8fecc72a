"""Real `safehold worker` processes: killed mid-job, stopped gracefully, several at once.

Each test gets a site the worker subprocesses share with it: on PostgreSQL the test
database (the test commits, so the workers see its rows); on SQLite a data directory
of its own, migrated by `safehold migrate`. Rows are enqueued and read back through
`python -c` in that site's environment, so both backends run the same test. The
workers import the test-only tasks through SAFEHOLD_JOBS_TASK_MODULES.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.helpers import SAFEHOLD, safehold_env, serving

ROOT = Path(__file__).resolve().parents[2]

# The workers must see what the test commits (and the test database must exist).
pytestmark = pytest.mark.django_db(transaction=True)

PRELUDE = """
import json, sys
import django
django.setup()
from safehold.jobs import enqueue
from safehold.jobs.models import Job
"""


@dataclass
class Site:
    env: dict[str, str]
    tmp: Path
    procs: list[subprocess.Popen[str]]

    def python(self, code: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", PRELUDE + code],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def enqueue(self, name: str, payload: dict, **options: str) -> int:  # type: ignore[type-arg]
        code = f"print(enqueue({name!r}, {payload!r}, **{options!r}).pk)"
        return int(self.python(code).strip())

    def jobs(self, **filters: str) -> list[dict]:  # type: ignore[type-arg]
        code = (
            f"rows = list(Job.objects.filter(**{filters!r}).order_by('id').values("
            "'id', 'name', 'status', 'attempts', 'run_at', 'locked_by'))\n"
            "print(json.dumps(rows, default=str))"
        )
        return json.loads(self.python(code))

    def worker(self, *args: str, **extra_env: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [*SAFEHOLD, "worker", "--poll", "0.1", *args],
            env={**self.env, **extra_env},
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.procs.append(proc)
        return proc


def wait_for(what: Callable[[], object], seconds: float = 120) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    tasks = {"SAFEHOLD_JOBS_TASK_MODULES": "tests.jobs.tasks", "PYTHONPATH": str(ROOT)}
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        url = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="tests.settings",
            SAFEHOLD_TEST_DATA_DIR=str(settings.DATA_DIR),
            SAFEHOLD_TEST_DATABASE_URL=url,
            **tasks,
        )
    else:
        env = safehold_env(tmp_path / "data", DJANGO_SETTINGS_MODULE="safehold.settings", **tasks)
        migrated = subprocess.run(
            [*SAFEHOLD, "migrate", "-v0"], env=env, capture_output=True, text=True, check=False
        )
        assert migrated.returncode == 0, migrated.stderr
    (tmp_path / "work").mkdir()
    made = Site(env, tmp_path / "work", [])
    yield made
    for proc in made.procs:  # never leave a worker behind
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out[-3000:]
    return out


def test_a_worker_killed_mid_job_finishes_it_after_a_restart(site: Site) -> None:
    job_id = site.enqueue("tests.blocking", {"dir": str(site.tmp)})
    first = site.worker()
    wait_for(lambda: lines(site.tmp / "started"))
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    (job,) = site.jobs(id=job_id)
    assert job["status"] == "running"  # leased to a dead worker
    assert not (site.tmp / "finished").exists()

    (site.tmp / "release").touch()
    second = site.worker()
    wait_for(lambda: site.jobs(id=job_id, status="done"))
    out = stop(second)
    assert len(lines(site.tmp / "started")) == 2  # run again from the start (idempotent)
    assert len(lines(site.tmp / "finished")) == 1
    (job,) = site.jobs(id=job_id)
    assert job["attempts"] == 2
    assert f"job {job_id} tests.blocking: taken again" in out
    assert f"job {job_id} tests.blocking: done in" in out
    assert "stopped" in out


def test_sigterm_lets_the_current_job_finish(site: Site) -> None:
    job_id = site.enqueue("tests.blocking", {"dir": str(site.tmp)})
    worker = site.worker()
    wait_for(lambda: lines(site.tmp / "started"))
    worker.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert worker.poll() is None  # still in the job
    (site.tmp / "release").touch()
    out, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, out[-3000:]
    assert len(lines(site.tmp / "finished")) == 1
    (job,) = site.jobs(id=job_id)
    assert job["status"] == "done"
    assert job["attempts"] == 1
    assert "stopping after the current job" in out


def test_two_workers_never_run_the_same_job(site: Site) -> None:
    count = 120
    site.python(
        f"for n in range({count}): enqueue('tests.record', {{'dir': {str(site.tmp)!r}, 'n': n}})"
    )
    workers = [site.worker(), site.worker()]
    wait_for(lambda: len(lines(site.tmp / "records")) >= count, seconds=120)
    time.sleep(0.5)  # a duplicate run would show here
    for proc in workers:
        stop(proc)
    records = [line.split() for line in lines(site.tmp / "records")]
    assert sorted(int(n) for n, _pid in records) == list(range(count))  # each exactly once
    jobs = site.jobs(name="tests.record")
    assert {j["status"] for j in jobs} == {"done"}
    assert {j["attempts"] for j in jobs} == {1}


def test_two_workers_enqueue_each_period_once(site: Site) -> None:
    extra = {"SAFEHOLD_JOBS_TASK_MODULES": "tests.jobs.tasks,tests.jobs.periodic_tasks"}
    workers = [site.worker("--poll", "0.05", **extra), site.worker("--poll", "0.05", **extra)]
    wait_for(lambda: len(site.jobs(name="tests.tick", status="done")) >= 4, seconds=90)
    for proc in workers:
        stop(proc)
    ticks = site.jobs(name="tests.tick")
    slots = sorted(datetime.fromisoformat(j["run_at"]) for j in ticks)
    # Each job is due at its period's start; periods are one second apart. Two jobs
    # for one period would share a start (or sit less than a period apart).
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(slots)]
    assert all(gap >= 1 and gap == int(gap) for gap in gaps), gaps
    assert {j["status"] for j in ticks} == {"done"}
    assert len(site.jobs(name="jobs.retention")) == 1  # daily: once, whoever came first


def test_serve_runs_a_worker_beside_the_server(tmp_path: Path) -> None:
    if connection.vendor == "postgresql":
        pytest.skip("serve's own worker is tested on its embedded default (SQLite)")
    data = tmp_path / "data"
    tasks = {"SAFEHOLD_JOBS_TASK_MODULES": "tests.jobs.tasks", "PYTHONPATH": str(ROOT)}
    with serving(data, SAFEHOLD_JOBS_POLL_SECONDS="0.2", **tasks):
        site = Site(
            safehold_env(data, DJANGO_SETTINGS_MODULE="safehold.settings", **tasks), tmp_path, []
        )
        job_id = site.enqueue("tests.record", {"dir": str(tmp_path), "n": 1})
        wait_for(lambda: site.jobs(id=job_id, status="done"))
    assert lines(tmp_path / "records")[0].startswith("1 ")
