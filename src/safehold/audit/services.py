"""The audit log's one way in (``record_event``), its checkpoints and its proofs.

``record_event`` runs inside the caller's transaction, so an event commits with the
change it describes or not at all. Appends take the log's head row lock
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's write transaction is exclusive
already), so however many app servers write at once, events get consecutive
sequence numbers in commit order: one log, no gaps, no forks.
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

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest

from safehold.audit import merkle, signing
from safehold.audit.events import ActorKind, EventType, Purpose
from safehold.audit.models import Checkpoint, Event, Head
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
        # The fields in order after the version, seq as decimal: FORMAT, seq, occurred_at, ...
        text = "\t".join((FORMAT, str(self[0]), *self[1:]))
        if text.count("\t") != 11 or "\n" in text:
            raise ValueError("an audit field may not hold a tab or a newline")
        return text.encode()

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


#: Builds an EventRecord from a tuple of its fields in order, without the keyword
#: handling of the class call (the append path builds one per event).
_new_record = partial(tuple.__new__, EventRecord)


def compact_range(size: int, edge: bytes) -> merkle.CompactRange:
    """The tree's state as the head row stores it: ``edge`` is its right-edge hashes, joined.

    Raises ValueError if the edge does not fit the size.
    """
    return merkle.CompactRange(size, [edge[i : i + 32] for i in range(0, len(edge), 32)])


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


def _record(pending: _Pending, seq: int, occurred_at: str) -> EventRecord:
    actor = pending.actor
    sealed_key, sealed = _sealed_part(pending) if actor.ip or pending.note else ("", "")
    subject = pending.subject
    return _new_record(
        (
            seq,
            occurred_at,
            str(pending.event_type),
            str(actor.kind),
            actor.id,
            str(subject.pk) if subject is not None else "",
            pending.purpose,
            actor.request_id,
            _encode_detail(pending.detail) if pending.detail else "",
            sealed_key,
            sealed,
        )
    )


@dataclass
class _HeadState:
    """What this connection last wrote to (or read from) the head row."""

    size: int
    edge: bytes
    checkpointed_at: datetime | None


#: Above this many events in one append, the multi-row statement is split up.
_ONE_STATEMENT_MAX = 200


def _read_head(cursor: Any, ph: str, lock: str) -> _HeadState:
    cursor.execute(f"SELECT size, edge, checkpointed_at FROM audit_head WHERE id = 1{lock}")
    row = cursor.fetchone()
    if row is None:  # a new (or flushed) log: several processes may get here at once
        on_conflict = "ON CONFLICT (id) DO NOTHING"
        insert_head = f"INSERT INTO audit_head (id, size, edge) VALUES (1, 0, {ph}) {on_conflict}"
        cursor.execute(insert_head, [b""])
        cursor.execute(f"SELECT size, edge, checkpointed_at FROM audit_head WHERE id = 1{lock}")
        row = cursor.fetchone()
    checkpointed_at = row[2]
    if isinstance(checkpointed_at, str):  # SQLite hands back text
        checkpointed_at = datetime.fromisoformat(checkpointed_at)
    if checkpointed_at is not None and checkpointed_at.tzinfo is None:
        checkpointed_at = checkpointed_at.replace(tzinfo=UTC)
    return _HeadState(row[0], bytes(row[1]), checkpointed_at)


def _append(pendings: Sequence[_Pending]) -> list[EventRecord]:
    """The one write path: hash the events, move the head, insert leaves and completed nodes.

    Plain SQL on the driver's own cursor on purpose: this runs inside every audited
    change, and is measured against a bare INSERT (bench/audit.py).

    The head row is moved by compare-and-set against the state this connection saw
    last (its size *and* right edge, so the tree state is exactly the one the new
    hashes were computed from). Usually that is one UPDATE and one INSERT (on
    PostgreSQL one statement); if another connection appended in between, or this
    connection's last transaction rolled back, the set misses and the append reads
    the head under its lock (``FOR UPDATE`` on PostgreSQL; SQLite's write
    transaction is exclusive already) and computes again. After a miss, the
    connection reads under the lock first, until it finds the head where it left it.
    Either way, events get consecutive sequence numbers in commit order.
    """
    conn = connections[DEFAULT_DB_ALIAS]  # once: each use of the proxy is a context look-up
    if not conn.in_atomic_block:
        # No savepoint inside an existing transaction: an append that fails must fail
        # the caller's whole transaction anyway (the change may not commit without its
        # event).
        with transaction.atomic():
            return _append(pendings)
    conn.ensure_connection()
    postgres = conn.vendor == "postgresql"
    ph = "%s" if postgres else "?"
    lock = " FOR UPDATE" if conn.features.has_select_for_update else ""
    cursor = conn.connection.cursor()  # the driver's cursor: no wrapper per statement
    try:
        cached: _HeadState | None = getattr(conn, "_safehold_audit_head", None)
        # While other connections append too (several app servers, the consent
        # committers), the compare-and-set would miss every time and cost a round trip:
        # read the head under its lock first until it stops moving between our appends.
        contended: bool = getattr(conn, "_safehold_audit_contended", False)
        if cached is None or contended:
            state = _read_head(cursor, ph, lock)
            contended = cached is not None and state.size != cached.size
        else:
            state = cached
        while True:
            records, event_rows, node_rows, new_state, sign, now = _compute(pendings, state)
            if _write(conn, cursor, ph, state, new_state, sign, event_rows, node_rows):
                break
            # Someone else moved the head: read it under the lock, and the next
            # compare-and-set cannot miss.
            contended = True
            state = _read_head(cursor, ph, lock)
        conn._safehold_audit_head = new_state  # type: ignore[attr-defined]  # our cache on the connection
        conn._safehold_audit_contended = contended  # type: ignore[attr-defined]  # likewise
    except BaseException:
        conn._safehold_audit_head = None  # type: ignore[attr-defined]  # our cache on the connection
        raise
    finally:
        cursor.close()
    if sign:
        _checkpoint(new_state.size, compact_range(new_state.size, new_state.edge).root(), now)
    return records


def _compute(
    pendings: Sequence[_Pending], state: _HeadState
) -> tuple[
    list[EventRecord],
    list[tuple[Any, ...]],
    list[tuple[int, int, bytes]],
    _HeadState,
    bool,
    datetime,
]:
    compact = compact_range(state.size, state.edge)
    now = _now()
    records: list[EventRecord] = []
    event_rows: list[tuple[Any, ...]] = []
    node_rows: list[tuple[int, int, bytes]] = []
    occurred_at = now.isoformat(timespec="microseconds")
    leaf_hash = merkle.leaf_hash
    append = compact.append
    for pending in pendings:
        seq = compact.size
        record = _record(pending, seq, occurred_at)
        data = record.to_bytes()
        leaf = leaf_hash(data)
        completed = append(leaf)
        if len(completed) > NODE_MIN_LEVEL:
            node_rows += completed[NODE_MIN_LEVEL:]
        event_rows.append((seq, occurred_at, record[2], record[5], data, leaf))
        records.append(record)
    checkpointed_at = state.checkpointed_at
    sign = checkpointed_at is None or now - checkpointed_at >= CHECKPOINT_INTERVAL
    new_state = _HeadState(compact.size, b"".join(compact.hashes), now if sign else checkpointed_at)
    return records, event_rows, node_rows, new_state, sign, now


_EVENT_COLUMNS = "seq, occurred_at, event_type, subject_id, data, leaf_hash"


def _write(
    conn: BaseDatabaseWrapper,
    cursor: Any,
    ph: str,
    old: _HeadState,
    new: _HeadState,
    sign: bool,
    event_rows: list[tuple[Any, ...]],
    node_rows: list[tuple[int, int, bytes]],
) -> bool:
    """Move the head from ``old`` to ``new`` and insert the rows; False if the head had moved."""
    postgres = conn.vendor == "postgresql"
    quote = conn.ops.quote_name
    set_checkpointed = f", checkpointed_at = {ph}" if sign else ""
    set_head = f"UPDATE audit_head SET size = {ph}, edge = {ph}{set_checkpointed}"
    head_params: list[Any] = [new.size, new.edge]
    if sign:
        head_params.append(conn.ops.adapt_datetimefield_value(new.checkpointed_at))
    where = f" WHERE id = 1 AND size = {ph} AND edge = {ph}"
    head_params += [old.size, old.edge]
    insert_nodes = f"INSERT INTO audit_node (level, {quote('index')}, hash) "
    if postgres and len(event_rows) <= _ONE_STATEMENT_MAX:
        # One round trip: the head moves and the rows go in only if the head was as seen.
        values = ", ".join(
            ["(%s::bigint, %s, %s, %s, %s::bytea, %s::bytea)"]
            + ["(%s, %s, %s, %s, %s, %s)"] * (len(event_rows) - 1)
        )
        sql = f"WITH h AS ({set_head}{where} RETURNING 1)"
        params: list[Any] = list(head_params)
        if node_rows:
            node_values = ", ".join(
                ["(%s::int, %s::bigint, %s::bytea)"] + ["(%s, %s, %s)"] * (len(node_rows) - 1)
            )
            nodes = f"{insert_nodes}SELECT * FROM (VALUES {node_values}) AS v"
            sql += f", n AS ({nodes} WHERE EXISTS (SELECT 1 FROM h))"
            params += [value for row in node_rows for value in row]
        events = f"INSERT INTO audit_event ({_EVENT_COLUMNS}) SELECT * FROM (VALUES {values}) AS v"
        sql += f" {events} WHERE EXISTS (SELECT 1 FROM h)"
        params += [value for row in event_rows for value in row]
        cursor.execute(sql, params)
        return bool(cursor.rowcount)
    cursor.execute(set_head + where, head_params)
    if cursor.rowcount != 1:
        return False
    insert_event = f"INSERT INTO audit_event ({_EVENT_COLUMNS}) VALUES ({', '.join([ph] * 6)})"
    if len(event_rows) == 1:
        cursor.execute(insert_event, event_rows[0])
    else:
        cursor.executemany(insert_event, event_rows)
    if node_rows:
        cursor.executemany(insert_nodes + f"VALUES ({ph}, {ph}, {ph})", node_rows)
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
    """Append several events in one transaction (for batch writers)."""
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
    """Sign the tree as it is now (on demand; ``record_event`` also does it once a minute)."""
    with transaction.atomic():
        head = Head.objects.select_for_update().filter(id=1).first()
        size = head.size if head else 0
        compact = compact_range(size, bytes(head.edge) if head else b"")
        now = _now()
        Head.objects.filter(id=1).update(checkpointed_at=now)
        return _checkpoint(size, compact.root(), now)


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
