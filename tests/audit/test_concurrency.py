"""Several processes appending at once yield one log: no gaps, no forks."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections, transaction

from safehold.audit import services
from safehold.audit.events import EventType
from safehold.audit.models import Checkpoint, Event
from safehold.audit.services import Actor, record_event
from safehold.audit.verify import verify_log

WRITER = """
import os, sys
import django
django.setup()
from django.db import connections
connections["default"].settings_dict["NAME"] = sys.argv[1]
from safehold.audit.events import EventType
from safehold.audit.services import Actor, record_event
for i in range(int(sys.argv[2])):
    record_event(EventType.PROFILE_UPDATED, actor=Actor.system(),
                 detail={"writer": os.getpid(), "i": i})
print("done")
"""


@pytest.mark.django_db(transaction=True)
def test_parallel_writers_make_one_log_without_gaps_or_forks() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "the multi-server case runs on PostgreSQL (SAFEHOLD_TEST_DATABASE_URL); "
            "SQLite has a single writer"
        )
    writers, per_writer = 4, 150
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="tests.settings",
        SAFEHOLD_TEST_DATA_DIR=str(settings.DATA_DIR),
    )
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, connection.settings_dict["NAME"], str(per_writer)],
            env=env,
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(writers)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-2000:]
        assert "done" in out
    seqs = list(Event.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(writers * per_writer))
    services.make_checkpoint()
    report = verify_log()
    assert report.ok, report.problems
    assert report.events == writers * per_writer


def _wait_until_another_connection_waits(failure: str) -> None:
    """Poll (for up to 10 s) until another backend waits for a lock, e.g. for this
    transaction; fail with ``failure`` otherwise."""

    with connection.cursor() as cursor:
        for _ in range(200):
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # fresh, not this transaction's
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    pytest.fail(failure)


@pytest.mark.django_db(transaction=True)
def test_an_appender_holding_events_does_not_deadlock_with_the_append_lock() -> None:
    """Connection U holds an event (seq 3) and rolled a second one back with its savepoint;
    connection L, after a miss, holds the append lock and waits for U's seq 3. U appends
    again: its guess misses, and it must not wait for L's lock (each would wait for the
    other); it reads the end without the lock and goes on."""
    if connection.vendor != "postgresql":
        pytest.skip("the append lock is PostgreSQL's (SAFEHOLD_TEST_DATABASE_URL)")

    def append(i: int) -> None:
        record_event(EventType.PROFILE_UPDATED, actor=Actor.system(), detail={"i": i})

    class Undo(Exception):
        pass

    for i in range(3):
        append(i)
    errors: list[BaseException] = []

    def other() -> None:  # L
        try:
            own = connections["default"]
            own._safehold_audit_contended = True  # as after a miss
            with transaction.atomic():
                append(100)  # takes the lock, then waits for U's seq 3
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    with transaction.atomic():
        append(3)  # U holds seq 3
        try:
            with transaction.atomic():
                append(4)
                raise Undo
        except Undo:
            pass
        thread = threading.Thread(target=other)
        thread.start()
        _wait_until_another_connection_waits(f"the other connection never waited: {errors}")
        append(5)  # a miss: U must not wait for the lock L holds
    thread.join(30)
    assert not thread.is_alive()
    assert errors == []
    seqs = list(Event.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(6))
    assert verify_log().ok


@pytest.mark.django_db(transaction=True)
def test_a_checkpoint_on_demand_waits_for_an_append_that_signed_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An append that finds a checkpoint due signs one in its own transaction; the ticker
    signing meanwhile must not commit a smaller tree after it (the log would look as if
    it shrank)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's concurrent writers (SAFEHOLD_TEST_DATABASE_URL)")

    for i in range(3):
        record_event(EventType.PROFILE_UPDATED, actor=Actor.system(), detail={"i": i})
    errors: list[BaseException] = []

    def ticker() -> None:
        try:
            services.make_checkpoint()
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    later = datetime.now(UTC) + timedelta(minutes=2)  # a checkpoint is due then
    monkeypatch.setattr(services, "_now", lambda: later)
    with transaction.atomic():
        record_event(EventType.PROFILE_UPDATED, actor=Actor.system(), detail={"i": 3})
        assert Checkpoint.objects.filter(tree_size=4).exists()  # signed, not committed
        thread = threading.Thread(target=ticker)
        thread.start()
        _wait_until_another_connection_waits(f"the ticker did not wait: {errors}")
    thread.join(30)
    assert errors == []
    sizes = list(Checkpoint.objects.order_by("id").values_list("tree_size", flat=True))
    assert sizes == sorted(sizes)
    assert sizes[-2:] == [4, 4]
    assert verify_log().ok
