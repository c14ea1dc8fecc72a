"""The worker's throughput: jobs per second through the queue (a no-op task), against
enqueue alone as the baseline, measured in the same run on the same database.

    python bench/worker.py [--jobs 2000] [--rounds 5]
    SAFEHOLD_BENCH_PG=postgresql://postgres@127.0.0.1:5432/postgres python bench/worker.py  # + PostgreSQL

Rows: ``enqueue`` (N calls of ``enqueue()``, one commit each: the baseline);
``run_pending`` (this process claims and runs the N jobs: one claim transaction and one
outcome write per job); ``safehold worker`` xK (K real worker processes, started and
idle first, then N jobs inserted at once; timed until the last is done). On PostgreSQL
a fresh database is created and dropped.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TASK = "bench.noop"


def register_noop() -> None:
    from safehold.jobs import task

    @task(TASK)
    def noop(payload: dict[str, Any]) -> None:
        """Does nothing: what is measured is the queue."""


if os.environ.get("SAFEHOLD_JOBS_TASK_MODULES") == "worker":  # imported by a worker process
    register_noop()


def clear() -> None:
    from safehold.jobs.models import Job

    Job.objects.all().delete()


def time_enqueue(n: int) -> float:
    from safehold.jobs import enqueue

    clear()
    start = time.perf_counter()
    for i in range(n):
        enqueue(TASK, {"i": i})
    return n / (time.perf_counter() - start)


def time_run_pending(n: int) -> float:
    from safehold.jobs.worker import run_pending

    start = time.perf_counter()
    ran = run_pending()
    elapsed = time.perf_counter() - start
    assert ran == n, ran
    return n / elapsed


def insert_at_once(n: int) -> None:
    from safehold.jobs import queue
    from safehold.jobs.models import Job

    now = queue._now()
    Job.objects.bulk_create([Job(name=TASK, payload={"i": i}, run_at=now) for i in range(n)])


def time_processes(n: int, workers: int, data_dir: Path, database_url: str | None) -> float:
    from safehold.jobs.models import Job

    clear()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAFEHOLD_", "DJANGO_"))}
    env |= {
        "SAFEHOLD_DATA_DIR": str(data_dir),
        "SAFEHOLD_JOBS_TASK_MODULES": "worker",
        "SAFEHOLD_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(HERE),
    }
    if database_url:
        env["SAFEHOLD_DATABASE_URL"] = database_url
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "safehold", "worker", "--poll", "0.05"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    try:
        time.sleep(4)  # started and idle
        for proc in procs:
            assert proc.poll() is None, proc.communicate()[1][-2000:]
        insert_at_once(n)
        start = time.perf_counter()
        while Job.objects.filter(name=TASK, status="done").count() < n:
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.communicate(timeout=60)
    assert not Job.objects.filter(name=TASK).exclude(status="done").exists()
    return n / elapsed


def measure(label: str, n: int, rounds: int, data_dir: Path, database_url: str | None) -> None:
    from django.db import connection

    results: dict[str, list[float]] = {"enqueue": [], "run_pending": []}
    process_rows = [1, 2] if connection.vendor == "postgresql" else [1]
    for k in process_rows:
        results[f"safehold worker x{k}"] = []
    for _ in range(rounds):
        results["enqueue"].append(time_enqueue(n))
        results["run_pending"].append(time_run_pending(n))
        for k in process_rows:
            results[f"safehold worker x{k}"].append(time_processes(n, k, data_dir, database_url))
    base = statistics.median(results["enqueue"])
    print(f"\n{label}: {n} jobs a round, {rounds} rounds, python {sys.version.split()[0]}")
    print("| what | median jobs/s | range | ratio to enqueue |")
    print("| --- | ---: | ---: | ---: |")
    for name, values in results.items():
        median = statistics.median(values)
        print(
            f"| {name} | {median:,.0f} | {min(values):,.0f} to {max(values):,.0f} "
            f"| {median / base:.2f}x |"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", default=os.environ.get("SAFEHOLD_BENCH_PG"))
    parser.add_argument("--part", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from _common import setup_django

    if args.part == "postgres":
        import psycopg

        name = f"safehold_bench_{uuid.uuid4().hex[:8]}"
        url = args.postgres.rsplit("/", 1)[0] + "/" + name
        with psycopg.connect(args.postgres, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        try:
            data_dir = setup_django("safehold-bench-worker-", url)
            logging.getLogger("safehold.jobs").setLevel(logging.WARNING)
            register_noop()
            measure("PostgreSQL", args.jobs, args.rounds, data_dir, url)
        finally:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(args.postgres, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        return
    data_dir = setup_django("safehold-bench-worker-")
    logging.getLogger("safehold.jobs").setLevel(logging.WARNING)
    register_noop()
    measure("SQLite", args.jobs, args.rounds, data_dir, None)
    if args.postgres:
        os.execv(  # noqa: S606  # our own script again, for the PostgreSQL part
            sys.executable,
            [
                sys.executable,
                __file__,
                "--part",
                "postgres",
                "--postgres",
                args.postgres,
                "--jobs",
                str(args.jobs),
                "--rounds",
                str(args.rounds),
            ],
        )


if __name__ == "__main__":
    main()
