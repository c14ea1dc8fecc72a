"""'Download my data' for a person with 100,000 access records: time and peak memory of
the process that builds the archive, against reading the same rows without writing
anything (the baseline, same run); and the retention purge's throughput for access
records, against one bare ``DELETE`` of the same rows.

    python bench/export.py [--records 100000] [--rounds 3]

Each measurement runs in a fresh child process (``--child``), so that its peak
resident set size (VmHWM) is its own: ``idle`` is a child that only starts
Django (the floor every row includes); ``read rows`` iterates every registered
exporter's rows for the person (database reads and decryption, no output: the
baseline); ``export`` is the worker's task (``services.build_export``): the rows
streamed into data.json and index.html, zipped and sealed on disk. The purge rows run
on a fresh copy of the data directory each round, all 100,000 records past the limit:
``purge (rule)`` is the registered ``access-records`` retention rule, ``DELETE`` is one
plain SQL statement.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _peak_mb() -> float:
    """This process's peak resident set size. VmHWM belongs to the process's own memory
    image; ``ru_maxrss`` would be no lower than the parent's size when it forked this
    child (Linux keeps it across exec), which is the bench's parent with its 100,000 rows."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(mode: str, data_dir: str, user_id: int) -> dict[str, float]:
    os.environ["SAFEHOLD_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "safehold.settings"
    sys.path.insert(0, str(HERE.parent / "src"))
    import django

    django.setup()
    from django.utils import timezone

    from safehold.accounts.models import User
    from safehold.audit.services import Actor
    from safehold.core import registry
    from safehold.rights import services

    user = User.objects.get(pk=user_id)
    # A worker is a long-lived process: its URL configuration (for the mail's link) and
    # data keys' KEK are loaded before a job; not part of what is measured.
    from django.urls import reverse

    reverse("rights_data")
    rows = 0
    start = time.perf_counter()
    if mode == "idle":
        pass
    elif mode == "read":
        for part in registry.exporters():
            for _row in part.rows(user):
                rows += 1
    elif mode == "export":
        export, _ = services.request_export(user, actor=Actor.system())
        built = services.build_export(export.pk)
        if built is None or built.status != "ready":
            raise SystemExit(f"the export did not finish: {built}")
        rows = sum(built.counts.values())
    elif mode == "age":
        from django.db.models import F

        from safehold.activity.models import AccessRecord

        # Every access record a year back: all past the 180-day limit (not timed).
        rows = AccessRecord.objects.update(at=F("at") - timedelta(days=365))
    elif mode == "purge":
        from safehold.jobs.retention import rules

        (rule,) = [r for r in rules() if r.name == "access-records"]
        rows = rule.purge(timezone.now() - timedelta(days=rule.days))
    elif mode == "delete":
        from django.db import connection, transaction

        cutoff = timezone.now() - timedelta(days=180)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM activity_accessrecord WHERE at < %s", [cutoff])
            rows = cursor.rowcount
    else:
        raise SystemExit(f"unknown mode {mode}")
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mb": _peak_mb(), "rows": rows}


def run_child(mode: str, data_dir: Path, user_id: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFEHOLD_")}
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(data_dir), str(user_id)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"child {mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def make_person(records: int) -> int:
    """A person with a profile, a session and ``records`` access records, spread over the
    last 90 days; returns their id."""
    from allauth.account.models import EmailAddress
    from django.db import transaction
    from django.utils import timezone

    from safehold.accounts.models import User
    from safehold.activity.models import AccessRecord

    user = User.objects.create_user("bench", "bench@example.test", "a-Long-bench-passphrase-1")
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    user.name = "Zephyrine Quillfeather"
    user.phone = "+447911123456"
    user.mailing_address = "17 Obsidian Mews, Larkspur"
    user.save()
    start = timezone.now() - timedelta(days=90)
    step = timedelta(days=90) / records
    details = {
        "path": "/account/sessions/",
        "browser": "Firefox 128",
        "os": "Linux",
        "ip": "198.51.100.77",
        "place": "GB",
    }
    kinds = ["page-visit"] * 8 + ["sign-in", "sign-in-failed"]
    batch = 5000
    for first in range(0, records, batch):
        with transaction.atomic():
            for n in range(first, min(records, first + batch)):
                kind = kinds[n % len(kinds)]
                AccessRecord(
                    user=user,
                    at=start + step * n,
                    kind=kind,
                    result="failed" if kind == "sign-in-failed" else "succeeded",
                    details=details,
                ).save()
    return int(user.pk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument(
        "--reuse", nargs=2, metavar=("DATA_DIR", "USER_ID"), help="a kept data directory"
    )
    args = parser.parse_args()

    if args.reuse:
        data_dir, user_id = Path(args.reuse[0]), int(args.reuse[1])
    else:
        from _common import setup_django

        data_dir = setup_django("safehold-bench-export-")
        from django.db import connections

        started = time.perf_counter()
        user_id = make_person(args.records)
        made = time.perf_counter() - started
        connections.close_all()
        print(f"made a person with {args.records:,} access records in {made:.0f} s")
    print(f"data directory {data_dir}, user {user_id}; load average {os.getloadavg()[0]:.1f}")

    results: dict[str, list[dict[str, float]]] = {"idle": [], "read rows": [], "export": []}
    for _round in range(args.rounds):
        results["idle"].append(run_child("idle", data_dir, user_id))
        results["read rows"].append(run_child("read", data_dir, user_id))
        results["export"].append(run_child("export", data_dir, user_id))
    archives = sorted((data_dir / "exports").glob("*.shx"))
    size_mb = archives[-1].stat().st_size / 1e6 if archives else 0.0

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    base_s, base_mb, idle_mb = (
        med("read rows", "seconds"),
        med("read rows", "peak_mb"),
        med("idle", "peak_mb"),
    )
    print(f"\nrounds: {args.rounds}, python {sys.version.split()[0]}, cpus {os.cpu_count()}")
    print(f"archive: {size_mb:.1f} MB sealed zip, {int(med('export', 'rows')):,} rows")
    print("| process | median s | ratio to read rows | rounds s | peak RSS MB | above idle MB |")
    print("| --- | ---: | ---: | --- | ---: | ---: |")
    for name in results:
        seconds, peak = med(name, "seconds"), med(name, "peak_mb")
        ratio = f"{seconds / base_s:.1f}x" if name != "idle" else "-"
        each = ", ".join(f"{r['seconds']:.1f}" for r in results[name])
        print(f"| {name} | {seconds:.2f} | {ratio} | {each} | {peak:.0f} | {peak - idle_mb:.0f} |")
    del base_mb

    # Retention purge throughput on copies of the data directory, all rows past the limit.
    purge: dict[str, list[dict[str, float]]] = {"DELETE": [], "purge (rule)": []}
    for _round in range(args.rounds):
        for name, mode in (("DELETE", "delete"), ("purge (rule)", "purge")):
            copy = Path(str(data_dir) + f"-{mode}")
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(data_dir, copy)
            run_child("age", copy, user_id)
            purge[name].append(run_child(mode, copy, user_id))
            shutil.rmtree(copy, ignore_errors=True)
    base = statistics.median(r["rows"] / r["seconds"] for r in purge["DELETE"])
    print("\n| retention purge of access records | rows | median s | rows/s | ratio to DELETE |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, runs in purge.items():
        rate = statistics.median(r["rows"] / r["seconds"] for r in runs)
        seconds = statistics.median(r["seconds"] for r in runs)
        rows = int(statistics.median(r["rows"] for r in runs))
        print(f"| {name} | {rows:,} | {seconds:.2f} | {rate:,.0f} | {rate / base:.2f}x |")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    if not (args.keep or args.reuse):
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            profile = cProfile.Profile()
            result: Any = profile.runcall(child, sys.argv[2], sys.argv[3], int(sys.argv[4]))
            pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
            print(json.dumps(result))
            raise SystemExit(0)
        result = child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        print(json.dumps(result))
    else:
        main()
