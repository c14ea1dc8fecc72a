"""Audit log costs: append throughput against a bare INSERT, verification speed, and
inclusion-proof time and size on a log of 10 million events.

    python bench/audit.py [--events 2000] [--batch 100] [--verify 200000] [--proof-size 10000000]
    SAFEHOLD_BENCH_PG=postgresql://postgres@127.0.0.1:5432/postgres python bench/audit.py  # + PostgreSQL

Appends go through ``record_event`` / ``record_events`` exactly as the app uses them
(hash, store the leaves after the last event and any completed node), each compared
with the fastest bare INSERT of a row of the same size into an unindexed table with no
trigger (through Django's cursor or the driver's; by executemany or one multi-row
INSERT), measured in the same run on the same database. On PostgreSQL a bare COPY of
the same rows is printed for reference.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _common import setup_django


def setup(database_url: str | None) -> None:
    setup_django("safehold-bench-audit-", database_url)


def appends(n: int, batch: int) -> dict[str, float]:
    from django.db import connection, transaction

    from safehold.audit.events import EventType
    from safehold.audit.models import Event
    from safehold.audit.services import Actor, record_event, record_events

    with connection.cursor() as cursor:
        blob = "BYTEA" if connection.vendor == "postgresql" else "BLOB"
        cursor.execute(
            f"CREATE TABLE bench_bare (seq BIGINT, occurred_at VARCHAR(32), event_type VARCHAR(64), "
            f"subject_id VARCHAR(64), data {blob}, leaf_hash {blob})"
        )
    detail = {"fields": ["name", "phone"]}
    actor = Actor.system()
    record_event(
        EventType.PROFILE_UPDATED, actor=actor, detail=detail
    )  # warm up, make the first checkpoint
    sample = Event.objects.order_by("-seq").first()
    assert sample is not None
    row = (
        sample.occurred_at,
        sample.event_type,
        sample.subject_id,
        bytes(sample.data),
        bytes(sample.leaf_hash),
    )

    postgres = connection.vendor == "postgresql"
    ph = "%s" if postgres else "?"
    one_row = f"INSERT INTO bench_bare VALUES ({', '.join([ph] * 6)})"  # noqa: S608  # placeholders only

    kept: dict[str, Any] = {}

    def driver_cursor() -> Any:
        # The driver's own cursor, binding on the server on PostgreSQL, made once per
        # connection: what the append uses, so the bare INSERT is measured in its
        # fastest form too.
        import psycopg

        connection.ensure_connection()
        raw = connection.connection
        if kept.get("raw") is not raw:
            kept["raw"] = raw
            kept["cursor"] = psycopg.Cursor(raw) if postgres else raw.cursor()
        return kept["cursor"]

    def bare_one(i: int) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_bare VALUES (%s, %s, %s, %s, %s, %s)", (i, *row))

    def bare_one_driver(i: int) -> None:
        with transaction.atomic():
            driver_cursor().execute(one_row, (i, *row))

    def bare_batch(i: int) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO bench_bare VALUES (%s, %s, %s, %s, %s, %s)",
                [(i * batch + k, *row) for k in range(batch)],
            )

    many_rows = "INSERT INTO bench_bare VALUES " + ", ".join(  # noqa: S608  # placeholders only
        [f"({', '.join([ph] * 6)})"] * batch
    )

    def bare_batch_values(i: int) -> None:
        with transaction.atomic():
            driver_cursor().execute(
                many_rows, [v for k in range(batch) for v in (i * batch + k, *row)]
            )

    def bare_batch_copy(i: int) -> None:  # PostgreSQL only: a bulk load, not an INSERT
        with (
            transaction.atomic(),
            driver_cursor().copy("COPY bench_bare FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(["int8", "varchar", "varchar", "varchar", "bytea", "bytea"])
            for k in range(batch):
                copy.write_row((i * batch + k, *row))

    def audit_one(i: int) -> None:
        with transaction.atomic():
            record_event(EventType.PROFILE_UPDATED, actor=actor, detail=detail)

    def audit_batch(i: int) -> None:
        record_events([(EventType.PROFILE_UPDATED, actor, None, detail)] * batch)

    rounds = 5
    batches = n // rounds // batch * 5
    runs = [
        ("bare_one", bare_one, n // rounds, 1),
        ("bare_one_driver", bare_one_driver, n // rounds, 1),
        ("audit_one", audit_one, n // rounds, 1),
        ("bare_batch", bare_batch, batches, batch),
        ("bare_batch_values", bare_batch_values, batches, batch),
        ("audit_batch", audit_batch, batches, batch),
    ]
    if postgres:
        runs.append(("bare_batch_copy", bare_batch_copy, batches, batch))
    results: dict[str, list[float]] = {name: [] for name, *_ in runs}
    for r in range(rounds):  # interleaved rounds, so load falls on all alike
        for name, fn, count, per in runs:
            start = time.perf_counter()
            for i in range(count):
                fn(r * 100_000 + i)
            results[name].append(count * per / (time.perf_counter() - start))
    return {name: statistics.median(values) for name, values in results.items()}


def verification(total: int) -> dict[str, float]:
    from safehold.audit import services
    from safehold.audit.events import EventType
    from safehold.audit.models import Event
    from safehold.audit.services import Actor, record_events
    from safehold.audit.verify import verify_log

    actor = Actor.system()
    missing = total - Event.objects.count()
    while missing > 0:
        step = min(5000, missing)
        record_events([(EventType.PROFILE_UPDATED, actor, None, {"i": 1})] * step)
        missing -= step
    services.make_checkpoint()
    # Interleaved rounds: one process, then two (what `safehold audit verify` uses on
    # these 2-core machines); the median of each.
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(3):
        for jobs in (1, 2):
            start = time.perf_counter()
            report = verify_log(jobs=jobs)
            times[jobs].append(time.perf_counter() - start)
            assert report.ok, report.problems[:3]
    return {
        "events": float(report.events),
        "per_second": report.events / statistics.median(times[1]),
        "per_second_2": report.events / statistics.median(times[2]),
    }


def proofs(size: int) -> dict[str, float]:
    """A SQLite log of ``size`` events (leaf hashes and stored nodes only), proofs through
    the app's own node reader."""
    from django.db import connections

    from safehold.audit import merkle, services

    path = Path(tempfile.mkdtemp(prefix="safehold-bench-proof-")) / "log.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute(
        "CREATE TABLE audit_event (seq INTEGER PRIMARY KEY, occurred_at TEXT, event_type TEXT, "
        "subject_id TEXT, data BLOB, leaf_hash BLOB)"
    )
    db.execute(
        'CREATE TABLE audit_node (id INTEGER PRIMARY KEY, level INTEGER, "index" INTEGER, hash BLOB)'
    )
    compact = merkle.CompactRange()
    rows, nodes = [], []
    start = time.perf_counter()
    for seq in range(size):
        leaf = merkle.leaf_hash(seq.to_bytes(8, "big"))
        rows.append((seq, leaf))
        for level, index, digest in compact.append(leaf):
            if level >= services.NODE_MIN_LEVEL:
                nodes.append((level, index, digest))
        if len(rows) >= 200_000:
            db.executemany("INSERT INTO audit_event (seq, leaf_hash) VALUES (?, ?)", rows)
            db.executemany('INSERT INTO audit_node (level, "index", hash) VALUES (?, ?, ?)', nodes)
            rows, nodes = [], []
    db.executemany("INSERT INTO audit_event (seq, leaf_hash) VALUES (?, ?)", rows)
    db.executemany('INSERT INTO audit_node (level, "index", hash) VALUES (?, ?, ?)', nodes)
    db.execute('CREATE UNIQUE INDEX audit_node_unique ON audit_node (level, "index")')
    db.commit()
    db.close()
    build = time.perf_counter() - start
    root = compact.root()
    # The app's own node reader, pointed at the big log.
    default = connections["default"]
    default.close()
    original_name = default.settings_dict["NAME"]
    default.settings_dict["NAME"] = str(path)
    try:
        rng = random.Random(6962)  # noqa: S311  # which leaves to prove, not a secret
        times, sizes = [], []
        for _ in range(300):
            index = rng.randrange(size)
            start = time.perf_counter()
            proof = services.inclusion_proof(index, size)
            times.append((time.perf_counter() - start) * 1000)
            sizes.append(len(proof) * 32)
            assert merkle.verify_inclusion(
                merkle.leaf_hash(index.to_bytes(8, "big")), index, size, proof, root
            )
        old = size // 3
        ctimes = []
        for _ in range(50):
            start = time.perf_counter()
            services.consistency_proof(old, size)
            ctimes.append((time.perf_counter() - start) * 1000)
    finally:
        default.close()
        default.settings_dict["NAME"] = original_name
    times.sort()
    return {
        "size": float(size),
        "build_s": build,
        "median_ms": statistics.median(times),
        "p99_ms": times[int(len(times) * 0.99) - 1],
        "bytes": float(max(sizes)),
        "consistency_ms": statistics.median(ctimes),
        "db_mb": path.stat().st_size / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--verify", type=int, default=200_000)
    parser.add_argument("--proof-size", type=int, default=10_000_000)
    parser.add_argument("--postgres", default=os.environ.get("SAFEHOLD_BENCH_PG"))
    parser.add_argument("--part", choices=["all", "sqlite", "postgres", "proof"], default="all")
    args = parser.parse_args()
    if args.part == "postgres":
        import psycopg

        name = f"safehold_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.postgres, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        try:
            setup(args.postgres.rsplit("/", 1)[0] + "/" + name)
            report("PostgreSQL", appends(args.events, args.batch), verification(args.verify))
        finally:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(args.postgres, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE {name}")
        return
    if args.part in ("all", "sqlite", "proof"):
        setup(None)
    if args.part in ("all", "sqlite"):
        report("SQLite", appends(args.events, args.batch), verification(args.verify))
    if args.part in ("all", "proof"):
        p = proofs(args.proof_size)
        print(
            f"| inclusion proof, {p['size']:,.0f} events (SQLite, {p['db_mb']:,.0f} MB) | median {p['median_ms']:.2f} ms, "
            f"p99 {p['p99_ms']:.2f} ms, {p['bytes']:.0f} bytes | < 5 ms |"
        )
        print(
            f"| consistency proof, {p['size']:,.0f} events | median {p['consistency_ms']:.2f} ms | |"
        )
    if args.part == "all" and args.postgres:
        os.execv(  # noqa: S606  # our own script again, for the PostgreSQL part
            sys.executable,
            [
                sys.executable,
                __file__,
                "--part",
                "postgres",
                "--postgres",
                args.postgres,
                "--events",
                str(args.events),
                "--batch",
                str(args.batch),
                "--verify",
                str(args.verify),
            ],
        )


def report(db: str, a: dict[str, float], v: dict[str, float]) -> None:
    """The rows of the results table. Each audit rate is compared with the fastest bare
    INSERT of its kind measured in the same run (``bare_*``); COPY, a bulk load rather
    than an INSERT, is shown beside it on PostgreSQL."""
    one = max(a["bare_one"], a["bare_one_driver"])
    many = max(a["bare_batch"], a["bare_batch_values"])
    print(
        f"| {db}: bare INSERT, one per transaction | {a['bare_one']:,.0f} rows/s through "
        f"Django's cursor, {a['bare_one_driver']:,.0f} through the driver's | |"
    )
    print(
        f"| {db}: audit append, one per transaction | {a['audit_one']:,.0f} events/s "
        f"({a['audit_one'] / one * 100:.0f}% of the faster bare INSERT) | >= 80% |"
    )
    print(
        f"| {db}: bare INSERT, batches | {a['bare_batch']:,.0f} rows/s by executemany, "
        f"{a['bare_batch_values']:,.0f} as one multi-row INSERT | |"
    )
    if "bare_batch_copy" in a:
        print(
            f"| {db}: bare COPY, batches (a bulk load, for reference) | {a['bare_batch_copy']:,.0f} rows/s | |"
        )
    copy = (
        f"; {a['audit_batch'] / a['bare_batch_copy'] * 100:.0f}% of the bare COPY"
        if "bare_batch_copy" in a
        else ""
    )
    print(
        f"| {db}: audit append, batches | {a['audit_batch']:,.0f} events/s "
        f"({a['audit_batch'] / many * 100:.0f}% of the faster bare INSERT{copy}) | >= 80% |"
    )
    print(
        f"| {db}: verify, one process | {v['per_second']:,.0f} events/s over {v['events']:,.0f} | |"
    )
    print(
        f"| {db}: verify, two processes (`--jobs 2`) | {v['per_second_2']:,.0f} events/s over {v['events']:,.0f} | >= 500,000/s |"
    )


if __name__ == "__main__":
    main()
