"""A real `safehold worker` killed in the middle of an export or of an erasure: after a
restart the job is finished, nothing is lost, nothing is done twice.

Uses the jobs tests' ``site`` (worker subprocesses sharing a database with the test, on
SQLite or PostgreSQL). A dead worker's job is taken again when its lease runs out; the
tests make it run out at once instead of waiting the export's 30 minutes.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

from tests.jobs.test_processes import Site, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 20_000
ERASURE_ROWS = 500

SETUP = """
from datetime import timedelta
from django.db import transaction
from django.utils import timezone
from allauth.account.models import EmailAddress
from safehold.accounts.models import User
from safehold.activity.models import AccessRecord
from safehold.audit.services import Actor
from safehold.rights import services
user = User.objects.create_user("zq", "zq@example.test", "a-Long-and-unusual-passphrase-93")
EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
user.name = "Zephyrine Quillfeather"
user.phone = "+447911123456"  # (its blind index makes the installation's index secret)
user.save()
start = timezone.now() - timedelta(days=1)
with transaction.atomic():
    for n in range(ROWS):
        AccessRecord(
            user=user, at=start + timedelta(seconds=n), kind="page-visit", result="succeeded",
            details={"path": "/account/", "browser": "Firefox 128", "os": "Linux",
                      "ip": "198.51.100.77", "place": "GB"},
        ).save()
"""

EXPIRE_LEASES = """
from django.utils import timezone
Job.objects.filter(status="running").update(locked_until=timezone.now())
"""


def _state(site: Site, code: str) -> dict:  # type: ignore[type-arg]
    return json.loads(site.python("from safehold.rights.models import Export, Erasure\n" + code))


def _kill(proc) -> str:  # type: ignore[no-untyped-def]
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    return out


def test_an_export_cut_off_by_a_killed_worker_is_built_after_a_restart(site: Site) -> None:
    export_id = int(
        site.python(
            f"ROWS = {ROWS}\n"
            + SETUP
            + "export, _ = services.request_export(user, actor=Actor.system())\n"
            + "print(export.pk)"
        ).strip()
    )
    exports = Path(
        site.python("from safehold.rights.services import export_dir; print(export_dir())").strip()
    )
    first = site.worker()
    wait_for(lambda: list(exports.glob("*.part")), seconds=120)  # in the middle of writing
    _kill(first)
    state = _state(
        site,
        f"e = Export.objects.get(pk={export_id}); "
        "print(json.dumps({'status': e.status, 'name': e.archive_name}))",
    )
    assert state == {"status": "building", "name": ""}
    (job,) = site.jobs(name="rights.export")
    assert job["status"] == "running"  # leased to the dead worker
    assert list(exports.glob("*.part"))  # its half-written file

    site.python(EXPIRE_LEASES)
    second = site.worker()
    wait_for(
        lambda: _state(
            site, f"print(json.dumps(Export.objects.get(pk={export_id}).status == 'ready'))"
        ),
        seconds=180,
    )
    second.send_signal(signal.SIGTERM)
    second.communicate(timeout=60)
    counts = _state(
        site,
        "from safehold.rights import services\n"
        "import zipfile, io\n"
        f"e = Export.objects.get(pk={export_id})\n"
        "key = services.download_key(e, e.user)\n"
        "source, chunks = services.archive_chunks(e, key)\n"
        "data = json.loads(zipfile.ZipFile(io.BytesIO(b''.join(chunks))).read('data.json'))\n"
        "print(json.dumps({k: v['count'] for k, v in data['sections'].items()}))",
    )
    assert counts["access_records"] >= ROWS
    assert counts["profile"] == 1
    prefix = _state(site, f"print(json.dumps(Export.objects.get(pk={export_id}).public_id.hex))")
    assert not list(exports.glob(f"{prefix}-*.part"))  # the cut-off attempt's file is gone
    assert len(list(exports.glob(f"{prefix}-*.shx"))) == 1  # (the data directory may be shared)
    (job,) = site.jobs(name="rights.export")
    assert (job["status"], job["attempts"]) == ("done", 2)


@contextmanager
def _keystore_held(site: Site) -> Iterator[None]:
    """Hold the key store's write lock: a worker that reaches the shredding step waits."""
    location = site.python(
        "from django.conf import settings; print(settings.SAFEHOLD_VAULT_KEYSTORE)"
    )
    location = location.strip()
    if location.startswith("postgres"):
        import psycopg

        with psycopg.connect(location) as conn:
            conn.execute("LOCK TABLE safehold_vault_data_key IN EXCLUSIVE MODE")
            yield
            conn.rollback()
        return
    conn = sqlite3.connect(location, timeout=30, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")  # writers wait, readers do not
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def test_an_erasure_cut_off_by_a_killed_worker_is_finished_after_a_restart(site: Site) -> None:
    ids = site.python(
        f"ROWS = {ERASURE_ROWS}\n"
        + SETUP
        + "bob = User.objects.create_user('bob', 'bob@example.test', 'x-Long-passphrase-1234')\n"
        + "services.request_export(bob, actor=Actor.system())\n"
        + "erasure, _ = services.request_erasure(\n"
        + "    user, actor=Actor.system(), grace=timedelta(hours=1))\n"
        + "print(erasure.pk, user.pk, user.data_key)"
    ).split()
    erasure_id, user_id, key_id = int(ids[0]), int(ids[1]), ids[2]
    first = site.worker()
    # Bob's export first: the worker has opened the key store before it is held.
    wait_for(
        lambda: _state(site, "print(json.dumps(Export.objects.filter(status='ready').exists()))"),
        seconds=60,
    )
    with _keystore_held(site):
        # The grace period ends now (as if an hour had passed).
        site.python(
            "from django.utils import timezone\n"
            "from safehold.rights.models import Erasure\n"
            "now = timezone.now()\n"
            f"Erasure.objects.filter(pk={erasure_id}).update(erase_after=now)\n"
            "Job.objects.filter(name='rights.erase').update(run_at=now)"
        )
        # At erase_after, step 1 (rows erased, tombstone) commits; then the worker waits
        # for the key store to shred the key, and is killed there.
        wait_for(
            lambda: _state(
                site, f"print(json.dumps(Erasure.objects.get(pk={erasure_id}).status == 'erasing'))"
            ),
            seconds=40,
        )
        time.sleep(0.5)
        _kill(first)
    state = _state(
        site,
        "from safehold.vault import keys\n"
        "from safehold.activity.models import AccessRecord\n"
        f"print(json.dumps({{'status': Erasure.objects.get(pk={erasure_id}).status, "
        f"'shredded': keys.is_shredded({key_id!r}), "
        f"'records': AccessRecord.objects.filter(user_id={user_id}).count()}}))",
    )
    assert (state["status"], state["records"]) == ("erasing", 0)  # step 1 done, step 3 not
    if connection.vendor == "sqlite":
        assert state["shredded"] is False  # killed while waiting to shred
    # (On PostgreSQL the killed worker's UPDATE is already in the server, which finishes
    # it once the lock is released: the key is shredded, the erasure not marked done.)

    site.python(EXPIRE_LEASES)
    second = site.worker()
    wait_for(
        lambda: _state(
            site, f"print(json.dumps(Erasure.objects.get(pk={erasure_id}).status == 'completed'))"
        ),
        seconds=120,
    )
    second.send_signal(signal.SIGTERM)
    second.communicate(timeout=60)
    final = _state(
        site,
        "from safehold.vault import keys\n"
        "from safehold.audit.verify import verify_log\n"
        "from safehold.audit.models import Event\n"
        f"e = Erasure.objects.get(pk={erasure_id})\n"
        f"print(json.dumps({{'shredded': keys.is_shredded({key_id!r}), 'counts': e.counts, "
        "'ok': verify_log().ok, "
        f"'completed': Event.objects.filter(subject_id='{user_id}', "
        "event_type='erasure:completed').count()}))",
    )
    assert final["shredded"] is True
    assert final["counts"]["access_records"] == ERASURE_ROWS  # counted by the first, cut-off run
    assert final["completed"] == 1
    assert final["ok"] is True
