"""Look-ups by person and by type, written behind the log in bulk.

An append writes only its events (and nodes); ``services.index_lookups`` writes their
``audit_lookup`` entries later, sorted, and moves a mark after them. Readers find the
indexed events through the entries and scan the short tail after the mark. These
tests hold the readers to a plain scan of the event columns at every stage: nothing
indexed, part of it, all of it, and with more events after the mark.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from safehold.audit import services
from safehold.audit.events import EventType
from safehold.audit.models import Event, Lookup, LookupProgress
from safehold.audit.services import Actor, record_event, record_events
from safehold.audit.verify import verify_lookups


@dataclass(frozen=True)
class _Person:
    """What the append needs of a subject: its pk (no IP or note here, so no data key)."""

    pk: int

    def vault_key_id(self, *, create: bool) -> str | None:
        return None


_TYPES = (EventType.PROFILE_UPDATED, EventType.PII_REVEALED, EventType.SIGN_IN_SUCCEEDED)


def _append_mixed(n: int, seed: int) -> None:
    """``n`` events of three types, about one of eight people or about nobody, mixed."""
    items = []
    for i in range(seed, seed + n):
        pk = i * 5 % 9
        kind = _TYPES[i // 2 % 3]
        items.append((kind, Actor.system(), _Person(pk) if pk else None, {}))
    record_events(items)


def _append_and_roll_back(n: int, person: _Person) -> None:
    with transaction.atomic():
        for _ in range(n):
            record_event(EventType.PROFILE_UPDATED, actor=Actor.system(), subject=person)
        raise RuntimeError


def _mark() -> int:
    return LookupProgress.objects.filter(pk=1).values_list("indexed", flat=True).first() or 0


def _assert_readers_agree_with_the_columns() -> None:
    for pk in range(1, 9):
        expected = list(
            Event.objects.filter(subject_id=str(pk)).order_by("-seq").values_list("seq", flat=True)
        )
        assert [record.seq for record in services.events_about(pk)] == expected
        only = frozenset({str(EventType.PII_REVEALED)})
        assert [record.seq for record in services.events_about(pk, types=only)] == [
            seq
            for seq in expected
            if Event.objects.get(seq=seq).event_type == str(EventType.PII_REVEALED)
        ]
    for types in ([str(EventType.PROFILE_UPDATED)], [str(t) for t in _TYPES[1:]], ["none:such"]):
        assert list(
            Event.objects.filter(services.of_types(*types)).values_list("seq", flat=True)
        ) == list(Event.objects.filter(event_type__in=types).values_list("seq", flat=True))


@pytest.mark.django_db
def test_readers_find_the_same_events_before_during_and_after_indexing() -> None:
    _append_mixed(300, 7)
    assert _mark() == 0
    _assert_readers_agree_with_the_columns()  # nothing indexed: all of it is the tail
    assert services.index_lookups(max_events=130) == 130
    assert _mark() == 130
    _assert_readers_agree_with_the_columns()  # part indexed
    assert services.index_lookups() == 170
    assert _mark() == 300
    _assert_readers_agree_with_the_columns()  # all indexed
    _append_mixed(25, 400)
    _assert_readers_agree_with_the_columns()  # indexed, and a tail after the mark
    assert verify_lookups() == []


@pytest.mark.django_db
def test_the_indexer_writes_each_entry_once_and_moves_its_mark() -> None:
    _append_mixed(60, 1)
    with_subject = Event.objects.exclude(subject_id="").count()
    assert services.index_lookups() == 60
    assert Lookup.objects.count() == 60 + with_subject
    assert Lookup.objects.filter(key__startswith="s:").count() == with_subject
    assert services.index_lookups() == 0  # nothing new
    assert services.reindex_lookups() == 60  # all again: nothing doubled
    assert Lookup.objects.count() == 60 + with_subject
    assert _mark() == 60


@pytest.mark.django_db(transaction=True)
def test_an_append_that_passes_the_lag_indexes_after_its_commit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the ticker the look-ups still follow: the append that passes a multiple
    of ``LOOKUP_LAG`` indexes everything before it, after its own commit."""
    monkeypatch.setattr(services, "LOOKUP_LAG", 8)
    person = _Person(3)
    for _ in range(7):
        record_event(EventType.PROFILE_UPDATED, actor=Actor.system(), subject=person)
    assert _mark() == 0
    with transaction.atomic():
        record_event(EventType.PROFILE_UPDATED, actor=Actor.system(), subject=person)
        assert _mark() == 0  # not before the commit
    assert _mark() == 8
    assert Lookup.objects.filter(key="s:3").count() == 8
    with pytest.raises(RuntimeError):  # passing it in a rollback
        _append_and_roll_back(9, person)
    assert _mark() == 8


@pytest.mark.django_db
def test_a_forged_entry_cannot_put_someone_elses_event_on_a_persons_page() -> None:
    record_event(EventType.PII_REVEALED, actor=Actor.system(), subject=_Person(1))
    services.index_lookups()
    Lookup.objects.create(key="s:2", seq=0)  # event 0 is about person 1
    assert services.events_about(2) == []
    assert [record.seq for record in services.events_about(1)] == [0]


@pytest.mark.django_db(transaction=True)
def test_verify_names_a_removed_entry_and_reindex_writes_it_again() -> None:
    """Deleting an entry would hide the event from the person's page: the log itself
    is intact, but ``safehold audit verify`` fails on it until ``reindex``."""
    for _ in range(5):
        record_event(EventType.PII_REVEALED, actor=Actor.system(), subject=_Person(4))
    services.index_lookups()
    Lookup.objects.filter(key="s:4", seq=2).delete()  # no trigger guards the derived entries
    assert [record.seq for record in services.events_about(4)] == [4, 3, 1, 0]
    problems = verify_lookups()
    assert len(problems) == 1
    assert "1 event(s) have no look-up entry by subject, first event 2" in problems[0]
    with pytest.raises(CommandError, match="look-up entries are not"):
        call_command("audit", "verify", "--jobs", "1")
    call_command("audit", "reindex")
    assert verify_lookups() == []
    assert [record.seq for record in services.events_about(4)] == [4, 3, 2, 1, 0]
    call_command("audit", "verify", "--jobs", "1")


@pytest.mark.django_db(transaction=True)
def test_migration_0007_indexes_the_existing_log_and_going_back_restores_the_indexes() -> None:
    from django.db.migrations.executor import MigrationExecutor

    def column_indexes() -> set[str]:
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, "audit_event")
        return {
            info["columns"][0]
            for info in constraints.values()
            if info["index"] and not info["primary_key"] and len(info["columns"]) == 1
        }

    _append_mixed(20, 3)
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("audit")
    executor.migrate([("audit", "0006_drop_head")])
    assert {"event_type", "subject_id"} <= column_indexes()
    assert "audit_lookup" not in connection.introspection.table_names()
    _append_mixed(5, 40)  # the appends do not need the look-ups
    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    assert column_indexes() & {"event_type", "subject_id"} == set()
    assert _mark() == 25
    with_subject = Event.objects.exclude(subject_id="").count()
    assert Lookup.objects.count() == 25 + with_subject
    assert verify_lookups() == []
    _assert_readers_agree_with_the_columns()
