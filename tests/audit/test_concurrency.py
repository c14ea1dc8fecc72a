"""Several processes appending at once yield one log: no gaps, no forks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from safehold.audit.models import Event
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
    from safehold.audit import services

    services.make_checkpoint()
    report = verify_log()
    assert report.ok, report.problems
    assert report.events == writers * per_writer
