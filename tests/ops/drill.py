"""Code the ops tests run inside a real `safehold shell` (their own data directory).

Each function prints one JSON line, which the test reads back.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any


def _person(username: str, i: int) -> Any:
    from safehold.accounts.models import User
    from safehold.audit.events import EventType
    from safehold.audit.services import Actor, record_event
    from safehold.consent import services as consent

    user = User.objects.create_user(
        username=username,
        email=f"{username}@example.test",
        password=None,
        name=f"Name of {username}",
        mailing_address=f"{i} Drill Street",
    )
    record_event(EventType.PROFILE_UPDATED, actor=Actor.system(), subject=user, note=f"n{i}")
    config = consent.get_config()
    choices = {c.slug: (i % 2 == 0) for c in config.categories if not c.is_necessary}
    consent.record_choice(
        visitor_id=f"drill-{username}-visitor-0001",
        choices=choices,
        method="settings",
        actor=Actor.system(),
        user=user,
    )
    return user


def fill(count: int, prefix: str = "p") -> None:
    """Make ``count`` people, each with sealed fields, an audit event and a consent."""
    from django.db import transaction

    for i in range(count):
        with transaction.atomic():
            _person(f"{prefix}{i}", i)
    print(json.dumps({"made": count}))


def write_until(stop_file: str, prefix: str = "w") -> None:
    """Keep adding people until ``stop_file`` exists; print each one once committed."""
    from django.db import transaction

    i = 0
    while not Path(stop_file).exists():
        with transaction.atomic():
            _person(f"{prefix}{i}", i)
        print(f"{prefix}{i}", flush=True)  # acknowledged: the transaction has committed
        i += 1
        time.sleep(0.005)


def inspect(usernames: str = "") -> None:
    """What a restored installation holds: counts, and people's decrypted names."""
    from safehold.accounts.models import User
    from safehold.audit.verify import verify_log
    from safehold.consent.models import ConsentRecord
    from safehold.vault.fields import Erased

    wanted = [u for u in usernames.split(",") if u]
    names = {}
    for user in User.objects.filter(username__in=wanted):
        names[user.username] = "<erased>" if isinstance(user.name, Erased) else user.name
    erased = {
        user.username: "<erased>" if isinstance(user.name, Erased) else user.name
        for user in User.objects.filter(username__startswith="erased-")
    }
    report = verify_log()
    print(
        json.dumps(
            {
                "users": User.objects.count(),
                "usernames": sorted(User.objects.values_list("username", flat=True)),
                "consents": ConsentRecord.objects.count(),
                "names": names,
                "erased": erased,
                "audit_ok": report.ok,
                "audit_problems": list(report.problems),
                "active": sorted(
                    User.objects.filter(is_active=True).values_list("username", flat=True)
                ),
            }
        )
    )


def shred(username: str) -> None:
    """Crypto-shred one person's data key (as account deletion does)."""
    from safehold.accounts.models import User
    from safehold.vault.keys import shred_data_key

    user = User.objects.get(username=username)
    print(json.dumps({"shredded": shred_data_key(user.data_key), "key": user.data_key}))


def people(count: int, password: str) -> None:
    """Make ``count`` people who can sign in (verified e-mail), named k0, k1, ..."""
    from allauth.account.models import EmailAddress

    from safehold.accounts.models import User

    for i in range(count):
        user = User.objects.create_user(
            username=f"k{i}", email=f"k{i}@example.test", password=password
        )
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    print(json.dumps({"made": count}))


def profile_state(usernames: str) -> None:
    """Each person's current name and how many profile updates the audit log holds."""
    from safehold.accounts.models import User
    from safehold.audit.events import EventType
    from safehold.audit.models import Event

    state = {}
    for user in User.objects.filter(username__in=usernames.split(",")):
        state[user.username] = {
            "name": str(user.name),
            "events": Event.objects.filter(
                subject_id=str(user.pk), event_type=str(EventType.PROFILE_UPDATED)
            ).count(),
        }
    print(json.dumps(state))


def scheduled() -> None:
    """What the worker does: enqueue the due periodic tasks and run them."""
    from safehold.jobs.worker import run_pending, schedule_periodic
    from safehold.ops.models import Backup

    scheduled = schedule_periodic()
    ran = run_pending()
    print(
        json.dumps(
            {
                "scheduled": scheduled,
                "ran": ran,
                "backups": [
                    {"path": b.path, "kind": b.kind, "verified_ok": b.verified_ok}
                    for b in Backup.objects.all()
                ],
            }
        )
    )


def events(prefix: str) -> None:
    """The audit events whose type starts with ``prefix``: type and detail."""
    from safehold.audit.models import Event
    from safehold.audit.services import EventRecord

    found = []
    for event in Event.objects.filter(event_type__startswith=prefix).order_by("seq"):
        record = EventRecord.from_bytes(bytes(event.data))
        found.append({"type": record.event_type, "detail": record.detail_dict})
    print(json.dumps({"events": found}))


def promise(promise_id: str) -> None:
    from safehold.core import promises

    check = promises.get(promise_id)
    assert check is not None
    result = check.run()
    print(json.dumps({"status": str(result.status), "detail": str(result.detail)}))


def erase(username: str) -> None:
    """Erase one person through the rights app, as staff on request (no grace period)."""
    from datetime import timedelta

    from safehold.accounts.models import User
    from safehold.audit.services import Actor
    from safehold.rights import services as rights
    from safehold.rights.models import Erasure

    user = User.objects.get(username=username)
    erasure, _ = rights.request_erasure(
        user, actor=Actor.system(), reason=Erasure.Reason.STAFF, grace=timedelta(0)
    )
    outcome = rights.run_erasure(erasure.pk)
    print(json.dumps({"done": outcome.done, "key": user.data_key, "pk": user.pk}))
