"""The audit log's one way in (``record_event``), its checkpoints and its proofs.

``record_event`` runs inside the caller's transaction, so an event commits with the
change it describes or not at all. An event goes in only right after the event its
connection believes ends the log, at a seq nobody else holds (see ``_append``), so
however many app servers write at once, events get consecutive sequence numbers in
commit order: one log, no gaps, no forks.
"""

# ruff: noqa: S608  # SQL here is built from placeholders and fixed names only; values are bound

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]  # the C encoder
from typing import Any, NamedTuple, Protocol

import psycopg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest

from safehold.audit import merkle, signing
from safehold.audit.events import ActorKind, EventType, Purpose
from safehold.audit.models import Checkpoint, Event
from safehold.vault import keys
from safehold.vault.exceptions import KeyShredded, VaultError

#: Perfect subtrees below this level are not stored; proofs recompute them from at
#: most 2**NODE_MIN_LEVEL leaf hashes. One stored node per 8 events, not 1 per event.
NODE_MIN_LEVEL = 4
CHECKPOINT_INTERVAL = timedelta(seconds=60)
SYSTEM_SEAL_KEY = "system"
_SEAL_CONTEXT = b"safehold/audit/sealed"
FORMAT = "v1"


def _now() -> datetime:
    """The time seam for tests."""
    return datetime.now(UTC)


class Subject(Protocol):
    """Whose data an event concerns: anything with a ``pk`` and a vault data key."""

    pk: Any

    def vault_key_id(self, *, create: bool) -> str | None: ...


@dataclass(frozen=True)
class Actor:
    """Who acted. ``ip`` and ``request_id`` say from where; the IP is sealed, never plain."""

    kind: ActorKind
    id: str = ""
    ip: str = ""
    request_id: str = ""

    @classmethod
    def system(cls) -> Actor:
        return cls(ActorKind.SYSTEM)

    @classmethod
    def from_request(cls, request: HttpRequest | None, *, api_key_id: str | None = None) -> Actor:
        if request is None:
            return cls.system()
        from allauth.account.adapter import get_adapter

        try:
            ip = str(get_adapter(request).get_client_ip(request))
        except Exception:
            ip = ""
        request_id = str(getattr(request, "request_id", ""))
        if api_key_id:
            return cls(ActorKind.API_KEY, api_key_id, ip, request_id)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            kind = ActorKind.STAFF if user.is_staff else ActorKind.PERSON
            return cls(kind, str(user.pk), ip, request_id)
        return cls(ActorKind.ANONYMOUS, "", ip, request_id)


class EventRecord(NamedTuple):
    """An event as hashed into the tree: tab-separated UTF-8 fields, version first.

    A named tuple rather than a frozen dataclass: one is built per event on the append
    path, and a tuple is built several times faster.
    """

    seq: int
    occurred_at: str
    event_type: str
    actor_kind: str
    actor_id: str
    subject_id: str
    purpose: str
    request_id: str
    detail: str
    sealed_key: str
    sealed: str  # base64

    def to_bytes(self) -> bytes:
        return _canonical(self)

    @classmethod
    def from_bytes(cls, data: bytes) -> EventRecord:
        parts = bytes(data).decode().split("\t")
        if len(parts) != 12 or parts[0] != FORMAT:
            raise ValueError("not an audit event record")
        (
            _,
            seq,
            occurred_at,
            event_type,
            actor_kind,
            actor_id,
            subject_id,
            purpose,
            request_id,
            detail,
            sealed_key,
            sealed,
        ) = parts
        return cls(
            int(seq),
            occurred_at,
            event_type,
            actor_kind,
            actor_id,
            subject_id,
            purpose,
            request_id,
            detail,
            sealed_key,
            sealed,
        )

    @property
    def detail_dict(self) -> dict[str, Any]:
        return json.loads(self.detail) if self.detail else {}

    @property
    def when(self) -> datetime:
        return datetime.fromisoformat(self.occurred_at)


def _canonical(fields: Sequence[Any]) -> bytes:
    """An event's bytes from its fields in ``EventRecord`` order: the version, then the
    fields (seq as decimal), tab-separated UTF-8."""
    text = "\t".join((FORMAT, str(fields[0]), *fields[1:]))
    if text.count("\t") != 11 or "\n" in text:
        raise ValueError("an audit field may not hold a tab or a newline")
    return text.encode()


#: Builds an EventRecord from a tuple of its fields in order, without the keyword
#: handling of the class call (the append path builds one per event).
_new_record = partial(tuple.__new__, EventRecord)


# --- sealing what is personal (IP, notes) -------------------------------------------------------


def _seal(key_id: str, payload: dict[str, str]) -> str:
    aead = (
        AESGCM(keys.system_secret("audit-seal-v1"))
        if key_id == SYSTEM_SEAL_KEY
        else keys.data_key(key_id)
    )
    nonce = os.urandom(12)
    return base64.b64encode(
        nonce + aead.encrypt(nonce, json.dumps(payload).encode(), _SEAL_CONTEXT)
    ).decode()


def open_sealed(record: EventRecord) -> dict[str, str] | None:
    """The sealed part of an event (``ip``, ``note``); None once its key is shredded."""
    if not record.sealed:
        return {}
    try:
        raw = base64.b64decode(record.sealed)
        if record.sealed_key == SYSTEM_SEAL_KEY:
            aead = AESGCM(keys.system_secret("audit-seal-v1"))
        else:
            aead = keys.data_key(record.sealed_key)
        opened: dict[str, str] = json.loads(aead.decrypt(raw[:12], raw[12:], _SEAL_CONTEXT))
    except KeyShredded:
        return None
    except (InvalidTag, ValueError, VaultError):
        return {"error": "unreadable"}  # `safehold audit verify` says whether the log was altered
    return opened


# --- appending --------------------------------------------------------------------------


class _Pending(NamedTuple):
    event_type: EventType
    actor: Actor
    subject: Subject | None
    purpose: str
    note: str
    detail: dict[str, Any]


def _detail_encoder() -> Callable[[dict[str, Any]], str]:
    """Canonical JSON for an event's detail: sorted keys, no spaces, ASCII only.

    The C encoder is made once here; ``JSONEncoder.encode`` makes a new one on every
    call, which was a third of the cost of building an event.
    """
    options = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": True}
    encoder = json.JSONEncoder(**options)  # type: ignore[arg-type]  # options as the encoder takes them
    if c_make_encoder is None:  # pragma: no cover  # CPython always has it
        return encoder.encode
    chunks = c_make_encoder(
        None, encoder.default, encode_basestring_ascii, None, ":", ",", True, False, True
    )
    join = "".join

    def encode(detail: dict[str, Any]) -> str:
        return join(chunks(detail, 0))

    return encode


_encode_detail = _detail_encoder()


def _sealed_part(pending: _Pending) -> tuple[str, str]:
    """The sealed key's id and the sealed IP and note, or ``("", "")`` when there is neither."""
    private: dict[str, str] = {}
    if pending.actor.ip:
        private["ip"] = pending.actor.ip
    if pending.note:
        private["note"] = pending.note
    if not private:
        return "", ""
    subject_key = (
        pending.subject.vault_key_id(create=False) if pending.subject is not None else None
    )
    sealed_key = subject_key or SYSTEM_SEAL_KEY
    try:
        return sealed_key, _seal(sealed_key, private)
    except KeyShredded:
        return SYSTEM_SEAL_KEY, _seal(SYSTEM_SEAL_KEY, {"erased": "subject"})


class _Tail(NamedTuple):
    """The end of the log as this connection last wrote or read it."""

    size: int
    edge: tuple[bytes, ...]  # the right-edge perfect-subtree hashes, largest first
    last_leaf: bytes  # the leaf hash of event ``size - 1``; b"" for an empty log
    checkpointed_at: datetime | None  # the latest checkpoint this connection knows of


#: From this many events in one append on PostgreSQL, all but the first go in by binary
#: COPY (once the first has claimed its place) instead of in the statement itself.
_COPY_MIN = 16
#: The event columns' types, as binary COPY needs them.
_COPY_TYPES = ("int8", "varchar", "varchar", "varchar", "bytea", "bytea")
#: The advisory lock that appends take on PostgreSQL while other connections append
#: too: they then wait in turn instead of computing events that would not fit.
_APPEND_LOCK = 0x5AFE_A0D1_0000_0001
_EVENT_COLUMNS = "seq, occurred_at, event_type, subject_id, data, leaf_hash"

#: The first event of a PostgreSQL append: it goes in only if the event before it is
#: the one this connection believes ends the log (same seq, same leaf hash), and only
#: if its own seq is free, waiting for any transaction that holds it.
_POSTGRES_FIRST = f"""
INSERT INTO audit_event ({_EVENT_COLUMNS})
SELECT %s::int8, %s::varchar, %s::varchar, %s::varchar, %s::bytea, %s::bytea
WHERE %s::int8 < 0
   OR EXISTS (SELECT 1 FROM audit_event WHERE seq = %s::int8 AND leaf_hash = %s::bytea)
ON CONFLICT (seq) DO NOTHING"""
_POSTGRES_OTHERS = f"""
INSERT INTO audit_event ({_EVENT_COLUMNS})
SELECT * FROM unnest(%s::int8[], %s::varchar[], %s::varchar[], %s::varchar[],
                     %s::bytea[], %s::bytea[])
WHERE EXISTS (SELECT 1 FROM f)"""
_POSTGRES_NODES = """
INSERT INTO audit_node (level, "index", hash)
SELECT * FROM unnest(%s::int2[], %s::int8[], %s::bytea[])
WHERE EXISTS (SELECT 1 FROM f)"""
#: The whole append in one statement of fixed shape (prepared once per connection):
#: the other events and the completed nodes go in only if the first did; the count
#: says whether it did.
_POSTGRES_APPEND = f"""
WITH f AS ({_POSTGRES_FIRST} RETURNING 1),
     r AS ({_POSTGRES_OTHERS}),
     n AS ({_POSTGRES_NODES})
SELECT count(*) FROM f"""
#: The first event and the completed nodes, when there is no other event to unnest
#: (one event, or a group whose other events go in by COPY): one empty INSERT fewer.
_POSTGRES_FIRST_NODES = f"""
WITH f AS ({_POSTGRES_FIRST} RETURNING 1),
     n AS ({_POSTGRES_NODES})
SELECT count(*) FROM f"""
#: SQLite's write transaction is exclusive already; the same guard on the first event.
_SQLITE_FIRST = (
    f"INSERT INTO audit_event ({_EVENT_COLUMNS}) SELECT ?, ?, ?, ?, ?, ? "
    "WHERE ? < 0 OR EXISTS (SELECT 1 FROM audit_event WHERE seq = ? AND leaf_hash = ?) "
    "ON CONFLICT (seq) DO NOTHING"
)
_SQLITE_EVENT = f"INSERT INTO audit_event ({_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
_SQLITE_NODE = 'INSERT INTO audit_node (level, "index", hash) VALUES (?, ?, ?)'


def _latest_checkpoint_at(cursor: Any) -> datetime | None:
    cursor.execute("SELECT created_at FROM audit_checkpoint ORDER BY id DESC LIMIT 1")
    row = cursor.fetchone()
    if row is None:
        return None
    created_at = row[0]
    if isinstance(created_at, str):  # SQLite hands back text
        created_at = datetime.fromisoformat(created_at)
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=UTC)
    return created_at


#: A connection that knows an earlier end of the log catches up by reading at most this
#: many later events' leaf hashes; further behind, it reads the stored right edge.
_CATCH_UP_MAX = 4096


def _read_tail(
    conn: BaseDatabaseWrapper, cursor: Any, *, lock: bool, known: _Tail | None = None
) -> _Tail:
    """The end of the log as committed: its last event and the tree's right edge.

    With ``lock`` (PostgreSQL), first wait for the append lock, so the end read is one
    no other locking appender is about to extend. With ``known``, an earlier end this
    connection wrote or read, the events after it are read and added to it (what
    another server appended meanwhile: usually a few), if the event ``known`` ends with
    is still there with the same leaf hash; otherwise the right edge is read from the
    stored nodes.
    """
    postgres = conn.vendor == "postgresql"
    ph = "%s" if postgres else "?"
    if lock and postgres:
        # Wait for the lock only while this transaction holds no event of its own: one
        # that does could be what the lock's holder is waiting for (the seq it wants),
        # and both would wait for ever. It then only tries; the guard keeps the log
        # right either way, the lock only saves a wasted attempt.
        held = _appended_in_transaction(conn)
        take = "pg_try_advisory_xact_lock" if held else "pg_advisory_xact_lock"
        cursor.execute(f"SELECT {take}({ph})", [_APPEND_LOCK])
    if known is not None and known.size:
        cursor.execute(
            f"SELECT seq, leaf_hash FROM audit_event WHERE seq >= {ph} ORDER BY seq LIMIT {ph}",
            [known.size - 1, _CATCH_UP_MAX + 1],
        )
        rows = cursor.fetchall()
        if (
            rows
            and len(rows) <= _CATCH_UP_MAX
            and rows[0][0] == known.size - 1
            and bytes(rows[0][1]) == known.last_leaf
            and rows[-1][0] == known.size - 2 + len(rows)  # no gap
        ):
            compact = merkle.CompactRange(known.size, known.edge)
            for _seq, leaf in rows[1:]:
                compact.append_fast(bytes(leaf))
            return _Tail(compact.size, compact.hashes, bytes(rows[-1][1]), known.checkpointed_at)
    cursor.execute("SELECT seq, leaf_hash FROM audit_event ORDER BY seq DESC LIMIT 1")
    row = cursor.fetchone()
    if row is None:
        return _Tail(0, (), b"", _latest_checkpoint_at(cursor))
    size = int(row[0]) + 1
    edge = merkle.CompactRange.from_nodes(size, DatabaseNodes()).hashes
    return _Tail(size, edge, bytes(row[1]), _latest_checkpoint_at(cursor))


def _cursor(conn: BaseDatabaseWrapper, postgres: bool) -> Any:
    """The driver's own cursor for the append, made once per database connection.

    No wrapper per statement; on PostgreSQL one that binds on the server, so an event's
    bytes travel as bytes and the statements can be prepared (Django's own cursors bind
    on the client). Inside a transaction the connection is open already.
    """
    raw = conn.connection
    if raw is None:  # closed inside the transaction: Django's own error says so
        conn.ensure_connection()
        raw = conn.connection
    # The pair keeps the raw connection it was made on alive, so after a reconnect the
    # new one can never be that same object: compare by identity, not by id().
    kept = getattr(conn, "_safehold_audit_cursor", None)
    if kept is not None and kept[0] is raw:
        return kept[1]
    cursor = psycopg.Cursor(raw) if postgres else raw.cursor()
    conn._safehold_audit_cursor = (raw, cursor)  # type: ignore[attr-defined]  # our cache on the connection
    return cursor


def _appended() -> None:
    """A mark in the transaction's on-commit list: this transaction appended."""


def _appended_in_transaction(conn: BaseDatabaseWrapper) -> bool:
    """Whether an append of the current transaction still stands: Django drops on-commit
    entries when their savepoint or transaction is rolled back, and all at its end."""
    return any(entry[1] is _appended for entry in conn.run_on_commit)


def log_size() -> int:
    """How many events the log holds (committed, as this transaction sees them)."""
    last = Event.objects.order_by("-seq").values_list("seq", flat=True).first()
    return 0 if last is None else int(last) + 1


def _append(pendings: Sequence[_Pending]) -> list[EventRecord]:
    """The one write path: hash the events and insert them with any completed nodes.

    Plain SQL on the driver's own cursor on purpose: this runs inside every audited
    change, and is measured against a bare INSERT (bench/audit.py).

    There is no head row to update: the log's end is its last event. Each connection
    remembers the end it last wrote (size, right edge, last leaf hash) and computes the
    new events from it. The first new event goes in only if the stored event before it
    has that very leaf hash and its own seq is free; otherwise (another connection
    appended, this connection's transaction rolled back, the database was restored)
    nothing is written, the end is read again and the events computed again. A leaf
    hash covers the event's seq, time to the microsecond and content, so a matching
    last leaf is this connection's own committed event. After a miss on PostgreSQL the
    connection reads the end under an advisory lock first, until it finds the end
    where it left it. Either way, events get consecutive sequence numbers in commit
    order: one log, no gaps, no forks.
    """
    conn = connections[DEFAULT_DB_ALIAS]  # once: each use of the proxy is a context look-up
    if not conn.in_atomic_block:
        # No savepoint inside an existing transaction: an append that fails must fail
        # the caller's whole transaction anyway (the change may not commit without its
        # event).
        with transaction.atomic():
            return _append(pendings)
    postgres = conn.vendor == "postgresql"
    cursor = _cursor(conn, postgres)
    try:
        tail: _Tail | None = getattr(conn, "_safehold_audit_tail", None)
        # While other connections append too (several app servers, the consent
        # committers), the guess would miss every time: read the end under the lock
        # first until it stops moving between our appends.
        contended: bool = getattr(conn, "_safehold_audit_contended", False)
        if tail is None or contended:
            read = _read_tail(conn, cursor, lock=contended, known=tail)
            contended = tail is not None and read[:3] != tail[:3]
            tail = read
        now = _now()
        if _checkpoint_due(tail.checkpointed_at, now):
            # Maybe another process signed one since: look before signing again.
            tail = tail._replace(checkpointed_at=_latest_checkpoint_at(cursor))
        while True:
            records, event_rows, node_rows, new_tail = _compute(pendings, tail, now)
            if _write(postgres, cursor, tail, event_rows, node_rows):
                break
            contended = True
            tail = _read_tail(conn, cursor, lock=True, known=tail)
            now = _now()  # after any wait: times do not go back along the log
        conn._safehold_audit_tail = new_tail  # type: ignore[attr-defined]  # our cache on the connection
        conn._safehold_audit_contended = contended  # type: ignore[attr-defined]  # likewise
        if postgres and getattr(conn, "_safehold_audit_marked", None) is not conn.run_on_commit:
            # For the append lock (``_read_tail``); SQLite's one writer needs no mark.
            # Django replaces the list when a savepoint or the transaction ends, so
            # this marks each transaction (and what a savepoint leaves of it) once.
            conn.on_commit(_appended)
            conn._safehold_audit_marked = conn.run_on_commit  # type: ignore[attr-defined]  # likewise
    except BaseException:
        conn._safehold_audit_tail = None  # type: ignore[attr-defined]  # our cache on the connection
        conn._safehold_audit_cursor = None  # type: ignore[attr-defined]  # likewise
        raise
    if _checkpoint_due(tail.checkpointed_at, now):
        root = merkle.CompactRange(new_tail.size, new_tail.edge).root()
        _checkpoint(new_tail.size, root, now)
    return records


def _checkpoint_due(checkpointed_at: datetime | None, now: datetime) -> bool:
    return checkpointed_at is None or now - checkpointed_at >= CHECKPOINT_INTERVAL


def _compute(
    pendings: Sequence[_Pending], tail: _Tail, now: datetime
) -> tuple[list[EventRecord], list[tuple[Any, ...]], list[tuple[int, int, bytes]], _Tail]:
    """The events' records and rows, the nodes they complete, and the log's new end
    (whose ``checkpointed_at`` is ``now`` if a checkpoint is due).

    One loop with everything at hand: it runs once per event of every audited change.
    The bytes are those of ``EventRecord.to_bytes`` (tests/audit/test_append.py).
    """
    occurred_at = now.isoformat(timespec="microseconds")
    leaf_hash = merkle.leaf_hash
    encode = _encode_detail
    records: list[EventRecord] = []
    event_rows: list[tuple[Any, ...]] = []
    leaves: list[bytes] = []
    seq = tail.size
    for pending in pendings:
        event_type, actor, subject, purpose, note, detail = pending
        sealed_key, sealed = _sealed_part(pending) if actor.ip or note else ("", "")
        type_text = str(event_type)
        subject_id = str(subject.pk) if subject is not None else ""
        fields = (
            seq,
            occurred_at,
            type_text,
            str(actor.kind),
            actor.id,
            subject_id,
            purpose,
            actor.request_id,
            encode(detail) if detail else "",
            sealed_key,
            sealed,
        )
        data = _canonical(fields)
        leaf = leaf_hash(data)
        leaves.append(leaf)
        event_rows.append((seq, occurred_at, type_text, subject_id, data, leaf))
        records.append(_new_record(fields))
        seq += 1
    compact = merkle.CompactRange(tail.size, tail.edge)
    node_rows = compact.extend_storing(leaves, NODE_MIN_LEVEL)
    checkpointed_at = now if _checkpoint_due(tail.checkpointed_at, now) else tail.checkpointed_at
    new_tail = _Tail(compact.size, compact.hashes, leaves[-1], checkpointed_at)
    return records, event_rows, node_rows, new_tail


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as one list per column (for ``unnest``)."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


def _write(
    postgres: bool,
    cursor: Any,
    tail: _Tail,
    event_rows: list[tuple[Any, ...]],
    node_rows: list[tuple[int, int, bytes]],
) -> bool:
    """Insert the events after ``tail`` and their nodes; False (nothing written) if the
    log no longer ends at ``tail``."""
    first, rest = event_rows[0], event_rows[1:]
    guard = (tail.size - 1, tail.size - 1, tail.last_leaf)
    if postgres:
        if not rest and not node_rows:
            # The usual single-event append: the first event's INSERT alone. The whole
            # statement, with nothing to unnest, still runs its other two INSERTs,
            # empty: 457 to 464 µs a transaction against 424 to 427 (bench/README.md).
            cursor.execute(_POSTGRES_FIRST, (*first, *guard), prepare=True)
            return cursor.rowcount == 1
        copy = len(rest) >= _COPY_MIN
        if copy or not rest:
            params = [*first, *guard, *_columns(node_rows, 3)]
            cursor.execute(_POSTGRES_FIRST_NODES, params, prepare=True)
        else:
            params = [*first, *guard, *_columns(rest, 6), *_columns(node_rows, 3)]
            cursor.execute(_POSTGRES_APPEND, params, prepare=True)
        if not cursor.fetchone()[0]:
            return False
        if copy:
            statement = f"COPY audit_event ({_EVENT_COLUMNS}) FROM STDIN (FORMAT BINARY)"
            with cursor.copy(statement) as rows:
                rows.set_types(_COPY_TYPES)
                for row in rest:
                    rows.write_row(row)
        return True
    cursor.execute(_SQLITE_FIRST, (*first, *guard))
    if cursor.rowcount != 1:
        return False
    if rest:
        cursor.executemany(_SQLITE_EVENT, rest)
    if node_rows:
        cursor.executemany(_SQLITE_NODE, node_rows)
    return True


def record_event(
    event_type: EventType,
    *,
    actor: Actor,
    subject: Subject | None = None,
    purpose: Purpose | str = "",
    note: str = "",
    detail: dict[str, Any] | None = None,
) -> EventRecord:
    """Append one event to the log, inside the caller's transaction; return it.

    ``detail`` must hold no personal data (ids, counts, field names, methods);
    ``note`` may (it is sealed under the subject's data key, as is the actor's IP).
    """
    return _append([_Pending(event_type, actor, subject, str(purpose), note, detail or {})])[0]


def record_events(
    items: Sequence[tuple[EventType, Actor, Subject | None, dict[str, Any]]],
) -> list[EventRecord]:
    """Append several events in one transaction (for batch writers); none is a no-op."""
    if not items:
        return []
    return _append([_Pending(t, a, s, "", "", d) for t, a, s, d in items])


# --- checkpoints ------------------------------------------------------------------------


def _checkpoint(size: int, root: bytes, now: datetime) -> Checkpoint:
    origin = signing.origin()
    body = signing.checkpoint_body(size, root, now, origin)
    key_id, signature = signing.sign(body)
    return Checkpoint.objects.create(
        origin=origin,
        tree_size=size,
        root_hash=root,
        created_at=now,
        key_id=key_id,
        signature=signature,
    )


def make_checkpoint() -> Checkpoint:
    """Sign the tree as it is now (on demand; ``record_event`` also does it once a minute).

    The log's committed events are always a prefix of the one log (an event can only
    follow a committed one), so the tree read here is one that every later tree extends.
    """
    with transaction.atomic():
        conn = connections[DEFAULT_DB_ALIAS]
        with conn.cursor() as cursor:
            if conn.vendor == "postgresql":
                # Wait for any open transaction that has signed a checkpoint (an append
                # that found one due): signing after it commits keeps the checkpoints'
                # sizes growing with their ids. Appends that sign wait for this in turn.
                cursor.execute("LOCK TABLE audit_checkpoint IN SHARE ROW EXCLUSIVE MODE")
            tail = _read_tail(conn, cursor, lock=False)
        now = _now()
        return _checkpoint(tail.size, merkle.CompactRange(tail.size, tail.edge).root(), now)


def published(checkpoint: Checkpoint) -> signing.PublishedCheckpoint:
    return signing.PublishedCheckpoint(
        origin=checkpoint.origin or signing.origin(),
        size=checkpoint.tree_size,
        root=bytes(checkpoint.root_hash),
        created_at=checkpoint.created_at.isoformat(timespec="microseconds"),
        key_id=checkpoint.key_id,
        signature=bytes(checkpoint.signature),
    )


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-id").first()


# --- proofs -----------------------------------------------------------------------------


class DatabaseNodes:
    """``merkle.NodeReader`` over the stored nodes, recomputing low levels from leaf hashes.

    One query for all the stored nodes a proof needs and one for the leaves below
    NODE_MIN_LEVEL, each a UNION ALL of point or range look-ups on a primary or
    unique index (an OR of conditions can make a database scan the table).
    """

    def get_nodes(self, wanted: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        found: dict[tuple[int, int], bytes] = {}
        high = [(lvl, idx) for lvl, idx in wanted if lvl >= NODE_MIN_LEVEL]
        low = [(lvl, idx) for lvl, idx in wanted if lvl < NODE_MIN_LEVEL]
        index_column = connection.ops.quote_name("index")
        with connection.cursor() as cursor:
            if high:
                branch = (
                    f"SELECT level, {index_column}, hash FROM audit_node "
                    f"WHERE level = %s AND {index_column} = %s"
                )
                params = [v for key in high for v in key]
                cursor.execute(" UNION ALL ".join([branch] * len(high)), params)
                for lvl, idx, digest in cursor.fetchall():
                    found[(int(lvl), int(idx))] = bytes(digest)
            leaves: dict[int, bytes] = {}
            if low:
                branch = "SELECT seq, leaf_hash FROM audit_event WHERE seq >= %s AND seq < %s"
                params = [v for lvl, idx in low for v in (idx << lvl, (idx + 1) << lvl)]
                cursor.execute(" UNION ALL ".join([branch] * len(low)), params)
                leaves = {int(seq): bytes(h) for seq, h in cursor.fetchall()}
        for lvl, idx in low:
            hashes = [leaves.get(seq) for seq in range(idx << lvl, (idx + 1) << lvl)]
            if all(h is not None for h in hashes):
                # A perfect subtree's hash is the root of its leaves.
                found[(lvl, idx)] = merkle.root_of(hashes)[1]  # type: ignore[arg-type]  # no None left
        return found


def inclusion_proof(seq: int, size: int) -> list[bytes]:
    """Audit path of event ``seq`` in the tree of ``size`` events (RFC 9162 §2.1.3)."""
    return merkle.inclusion_proof(seq, size, DatabaseNodes())


def consistency_proof(old_size: int, new_size: int) -> list[bytes]:
    """Proof that the tree of ``old_size`` events is a prefix of ``new_size`` (RFC 9162 §2.1.4)."""
    return merkle.consistency_proof(old_size, new_size, DatabaseNodes())


def root_at(size: int) -> bytes:
    return merkle.root_at(size, DatabaseNodes())


def events_about(subject_pk: Any, *, types: frozenset[str] | None = None) -> list[EventRecord]:
    """The events about a person, newest first."""
    query = Event.objects.filter(subject_id=str(subject_pk))
    if types is not None:
        query = query.filter(event_type__in=sorted(types))
    return [
        EventRecord.from_bytes(bytes(data))
        for data in query.order_by("-seq").values_list("data", flat=True)
    ]
