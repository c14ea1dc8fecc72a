"""``safehold audit verify``: check the whole log against every signed checkpoint.

Reads every event in sequence order and recomputes its leaf hash from its content,
then the tree's root at each checkpoint's size, and compares. Reports, in order, the
first place where the log differs: an event altered (content no longer matches the
hash recorded at append time, or a look-up column disagrees with the content), an
event missing (a gap in the sequence), events removed from the end, a root that no
longer matches a checkpoint (the history was rewritten between two checkpoints), or a
checkpoint not signed by this installation's key.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import connection

from safehold.audit import merkle, signing
from safehold.audit.models import Checkpoint, Event

_CHUNK = 20_000
#: Events per range a worker process checks when verifying with several jobs.
_RANGE = 1 << 15


@dataclass
class Report:
    events: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)
    #: Events after the latest checkpoint: intact as far as the stored nodes say, but not
    #: yet signed (the checkpoint ticker signs them within a minute).
    unsigned: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _rows(lo: int, hi: int | None) -> Iterator[list[tuple[int, str, str, bytes, bytes]]]:
    """Chunks of (seq, event_type, subject_id, data, leaf_hash) with lo <= seq < hi, in order."""
    table = connection.ops.quote_name(Event._meta.db_table)
    last = lo - 1
    bound = "" if hi is None else " AND seq < %s"
    postgres = connection.vendor == "postgresql"
    sql = (
        f"SELECT seq, event_type, subject_id, data, leaf_hash FROM {table} "  # noqa: S608  # our table
        f"WHERE seq > %s{bound} ORDER BY seq LIMIT %s"
    )
    if postgres:
        import psycopg

        # Results in binary: the events' bytes arrive as they are, not as hex text for
        # the server to write and this process to parse (Django's cursor cannot).
        connection.ensure_connection()
        reader: Any = psycopg.Cursor(connection.connection)
    else:
        reader = connection.cursor()
    with reader as cursor:
        while True:
            params = [last, *([] if hi is None else [hi]), _CHUNK]
            if postgres:
                cursor.execute(sql, params, binary=True)
            else:
                cursor.execute(sql, params)
            rows = cursor.fetchall()
            if not rows:
                return
            yield rows
            last = rows[-1][0]


@dataclass
class _Chunk:
    """One checked run of events: their recomputed leaf hashes, in order, and the first
    problem among them (content altered, look-up columns disagreeing, a gap)."""

    first_seq: int
    last_seq: int
    leaves: list[bytes]
    problem: str | None


def _check(rows: list[tuple[int, str, str, bytes, bytes]], expected: int) -> _Chunk:
    """Recompute and check one chunk; ``expected`` is the seq the chunk should start at.

    The common case (nothing wrong) runs as a few list operations; only a chunk with
    a problem is walked event by event to name the first one.
    """
    sha256 = hashlib.sha256
    datas = [row[3] for row in rows]
    leaves = [sha256(b"\x00" + data).digest() for data in datas]
    seqs = [row[0] for row in rows]
    stored = [row[4] for row in rows]
    first, last = seqs[0], seqs[-1]
    problem: str | None = None
    in_order = first == expected and last - first == len(seqs) - 1
    intact = leaves == stored
    looked_up = [
        (parts[1], parts[3], parts[6]) if len(parts) >= 8 else None
        for parts in (data.split(b"\t", 7) for data in datas)
    ]
    wanted = [(b"%d" % row[0], row[1].encode(), row[2].encode()) for row in rows]
    consistent = looked_up == wanted
    if not (in_order and intact and consistent):
        for i, seq in enumerate(seqs):
            if seq != expected:
                problem = (
                    f"event {expected} is missing (the sequence jumps from {expected - 1} to {seq})"
                    if seq > expected
                    else f"event {seq} is out of order"
                )
                break
            expected = seq + 1
            if leaves[i] != stored[i]:
                problem = (
                    f"event {seq} was altered: its content does not match "
                    "the hash recorded when it was appended"
                )
                break
            if looked_up[i] != wanted[i]:
                problem = f"event {seq}: its look-up columns disagree with its content"
                break
    return _Chunk(first, last, leaves, problem)


def _check_range(bounds: tuple[int, int | None]) -> list[_Chunk]:
    """Check the events lo <= seq < hi (in a worker process: its own connection)."""
    lo, hi = bounds
    chunks: list[_Chunk] = []
    expected = lo
    for rows in _rows(lo, hi):
        chunk = _check(rows, expected)
        chunks.append(chunk)
        expected = chunk.last_seq + 1
    return chunks


def _chunks(jobs: int) -> Iterator[_Chunk]:
    """Every chunk of the log in order; with ``jobs`` > 1, checked by that many processes."""
    if connection.in_atomic_block or (
        connection.vendor == "sqlite" and connection.is_in_memory_db()  # type: ignore[attr-defined]  # the SQLite backend has it
    ):
        # Other processes would not see this transaction's writes, and cannot open an
        # in-memory database (the test suite's).
        jobs = 1
    if jobs <= 1:
        expected = 0
        for rows in _rows(0, None):
            chunk = _check(rows, expected)
            expected = chunk.last_seq + 1
            yield chunk
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from django.db import connections

    table = connection.ops.quote_name(Event._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(seq) FROM {table}")  # noqa: S608  # our table
        top = cursor.fetchone()[0]
    if top is None:
        return
    # Ranges by seq; the last is open-ended so events beyond MAX(seq) now are not missed.
    if top < _RANGE:  # a small log: forking costs more than it saves
        yield from _chunks(1)
        return
    step = _RANGE
    bounds: list[tuple[int, int | None]] = [(lo, lo + step) for lo in range(0, top + 1, step)]
    bounds[-1] = (bounds[-1][0], None)
    connections.close_all()  # each forked worker opens its own connection
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        expected = 0
        for part in pool.map(_check_range, bounds):
            for chunk in part:
                if chunk.first_seq != expected and chunk.problem is None:
                    chunk.problem = (
                        f"event {expected} is missing (the sequence jumps from "
                        f"{expected - 1} to {chunk.first_seq})"
                        if chunk.first_seq > expected
                        else f"event {chunk.first_seq} is out of order"
                    )
                expected = chunk.last_seq + 1
                yield chunk


@dataclass
class _RangeSum:
    """A worker's range, checked and summed up: ``parts`` are (end, level, hash), the
    perfect subtrees covering lo <= seq < end, cut at the checkpoint sizes inside it, each
    tagged with the end of its piece; None if the range has any problem."""

    lo: int
    end: int
    parts: list[tuple[int, int, bytes]] | None


def _sum_range(task: tuple[int, int | None, tuple[int, ...]]) -> _RangeSum:
    """Check the events lo <= seq < hi (in a worker process) and hash them up into the
    perfect subtrees between the checkpoint sizes ``cuts``."""
    lo, hi, cuts = task
    leaves: list[bytes] = []
    expected = lo
    for rows in _rows(lo, hi):
        chunk = _check(rows, expected)
        if chunk.problem is not None:
            return _RangeSum(lo, expected, None)
        leaves.extend(chunk.leaves)
        expected = chunk.last_seq + 1
    end = lo + len(leaves)
    bounds = [lo, *(c for c in cuts if lo < c < end), end]
    parts: list[tuple[int, int, bytes]] = []
    for a, b in itertools.pairwise(bounds):
        for level, index in merkle.perfect_nodes_for_range(a, b):
            start = (index << level) - lo
            _count, root = merkle.root_of(leaves[start : start + (1 << level)])
            parts.append((b, level, root))
    return _RangeSum(lo, end, parts)


def _tree_in_parallel(
    jobs: int, sizes: list[int]
) -> tuple[merkle.CompactRange, dict[int, bytes]] | None:
    """The tree of the whole log and its roots at ``sizes``, read and hashed by ``jobs``
    processes, each summing its range up into a few subtree hashes (joining every leaf
    in this one process was a third of the time). None when it cannot say more than
    "something is wrong": the caller then walks the log to name the first problem."""
    if jobs <= 1 or connection.in_atomic_block:
        return None
    if connection.vendor == "sqlite" and connection.is_in_memory_db():  # type: ignore[attr-defined]  # the SQLite backend has it
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from django.db import connections

    table = connection.ops.quote_name(Event._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(seq) FROM {table}")  # noqa: S608  # our table
        top = cursor.fetchone()[0]
    if top is None or top < _RANGE:
        return None
    tasks: list[tuple[int, int | None, tuple[int, ...]]] = []
    for lo in range(0, top + 1, _RANGE):
        hi = lo + _RANGE
        tasks.append((lo, hi, tuple(s for s in sizes if lo < s < hi)))
    tasks[-1] = (tasks[-1][0], None, tuple(s for s in sizes if s > tasks[-1][0]))
    connections.close_all()  # each forked worker opens its own connection
    compact = merkle.CompactRange()
    roots: dict[int, bytes] = {}
    wanted = set(sizes)
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        for summed in pool.map(_sum_range, tasks):
            if summed.parts is None or summed.lo != compact.size:
                pool.shutdown(cancel_futures=True)
                return None
            for end, level, subtree in summed.parts:
                compact.append_subtree(level, subtree)
                if compact.size == end and end in wanted:
                    roots[end] = compact.root()
    return compact, roots


def _nodes_cover() -> int:
    """How many events the stored tree nodes cover: each node (level, index) is stored
    when the event ``(index + 1) * 2**level - 1`` completes it."""
    from django.db.models import Max

    from safehold.audit.models import Node

    covered = 0
    for row in Node.objects.values("level").annotate(last=Max("index")):
        covered = max(covered, (int(row["last"]) + 1) << int(row["level"]))
    return covered


def verify_log(
    *,
    public_key: Ed25519PublicKey | None = None,
    against: signing.PublishedCheckpoint | None = None,
    jobs: int = 1,
) -> Report:
    """Verify the log; ``against`` is a checkpoint published outside the database.

    ``jobs`` > 1 reads and hashes ranges of the log in that many worker processes
    (for the command line on a large log; not inside a request). The report is the
    same either way.
    """
    report = Report()
    # Before the events are read: the log only grows, so nodes stored by appends that
    # commit during the scan cannot make an intact log look cut short.
    covered = _nodes_cover()
    key = public_key or signing.public_key()
    key_id = signing.key_id_of(key)
    checkpoints: list[tuple[str, int, bytes]] = []
    previous_size = 0
    for cp in Checkpoint.objects.order_by("id"):
        report.checkpoints += 1
        signed_at = cp.created_at.isoformat(timespec="seconds")
        label = f"checkpoint #{cp.id} (size {cp.tree_size}, {signed_at})"
        # The origin as it was signed: renaming the operator later does not break it.
        body = signing.checkpoint_body(
            cp.tree_size, bytes(cp.root_hash), cp.created_at, cp.origin or None
        )
        if cp.key_id != key_id or not signing.verify_signature(body, bytes(cp.signature), key):
            report.problems.append(
                f"{label} is not signed by this installation's audit key {key_id}"
            )
            continue
        if cp.tree_size < previous_size:
            report.problems.append(f"{label} is smaller than an earlier checkpoint: the log shrank")
        previous_size = max(previous_size, cp.tree_size)
        checkpoints.append((label, cp.tree_size, bytes(cp.root_hash)))
    if against is not None:
        label = f"the published checkpoint (size {against.size}, {against.created_at})"
        if not signing.verify_signature(against.body, against.signature, key):
            report.problems.append(f"{label} is not signed by the audit key {key_id}")
        else:
            checkpoints.append((label, against.size, against.root))

    by_size: dict[int, list[tuple[str, bytes]]] = {}
    for label, size, root in checkpoints:
        by_size.setdefault(size, []).append((label, root))
    if 0 in by_size:
        for label, root in by_size.pop(0):
            if root != merkle.EMPTY_ROOT:
                report.problems.append(f"{label} does not match the empty log")

    compact = merkle.CompactRange()
    first_content_problem: str | None = None
    pending_sizes = sorted(by_size)
    summed = _tree_in_parallel(jobs, pending_sizes)
    if summed is not None:
        compact, roots = summed
        for size in sorted(roots):
            pending_sizes.remove(size)
            for label, signed_root in by_size.pop(size):
                if roots[size] != signed_root:
                    report.problems.append(
                        f"the first {size} events do not match {label}: "
                        f"the history up to event {size - 1} was rewritten"
                    )
    for chunk in () if summed is not None else _chunks(jobs):
        if first_content_problem is None:
            first_content_problem = chunk.problem
        leaves = chunk.leaves
        start = 0
        # Roots are compared at each checkpoint's size, which may fall inside a chunk.
        while pending_sizes and pending_sizes[0] <= compact.size + len(leaves) - start:
            size = pending_sizes.pop(0)
            if size <= compact.size:
                continue
            cut = start + size - compact.size
            compact.extend(leaves[start:cut])
            start = cut
            root = compact.root()
            for label, signed_root in by_size.pop(size):
                if root != signed_root:
                    report.problems.append(
                        f"the first {size} events do not match {label}: "
                        f"the history up to event {size - 1} was rewritten"
                    )
        compact.extend(leaves[start:])
    report.events = compact.size
    if first_content_problem is not None:
        report.problems.insert(0, first_content_problem)
    if covered > report.events:
        report.problems.append(
            f"the log holds {report.events} events but its stored tree nodes cover "
            f"{covered}: events were removed from the end"
        )
    signed = max((size for _label, size, _root in checkpoints), default=0)
    report.unsigned = max(0, report.events - signed)
    for size in sorted(by_size):
        for label, _root in by_size[size]:
            report.problems.append(
                f"the log ends after {report.events} events but {label} covers {size}: "
                f"events from {report.events} on were removed"
            )
    return report
