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
from collections.abc import Iterator
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import connection

from safehold.audit import merkle, signing
from safehold.audit.models import Checkpoint, Event

_CHUNK = 20_000


@dataclass
class Report:
    events: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)
    #: Events after the latest checkpoint: intact as far as the head row says, but not
    #: yet signed (the checkpoint ticker signs them within a minute).
    unsigned: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _stream() -> Iterator[tuple[int, str, str, bytes, bytes]]:
    """(seq, event_type, subject_id, data, leaf_hash) in order, straight from the cursor."""
    table = connection.ops.quote_name(Event._meta.db_table)
    last = -1
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                f"SELECT seq, event_type, subject_id, data, leaf_hash FROM {table} "  # noqa: S608  # our table
                "WHERE seq > %s ORDER BY seq LIMIT %s",
                [last, _CHUNK],
            )
            rows = cursor.fetchall()
            if not rows:
                return
            yield from rows
            last = rows[-1][0]


def _edge_root(edge: bytes, size: int) -> bytes:
    from safehold.audit.services import compact_range

    try:
        return compact_range(size, edge).root()
    except ValueError:
        return b""


def verify_log(
    *,
    public_key: Ed25519PublicKey | None = None,
    against: signing.PublishedCheckpoint | None = None,
) -> Report:
    """Verify the log; ``against`` is a checkpoint published outside the database."""
    report = Report()
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

    sha256 = hashlib.sha256
    compact = merkle.CompactRange()
    append = compact.append_fast
    expected = 0
    first_content_problem: str | None = None
    for seq, event_type, subject_id, data, stored_leaf in _stream():
        data = bytes(data)
        if seq != expected and first_content_problem is None:
            first_content_problem = (
                f"event {expected} is missing (the sequence jumps from {expected - 1} to {seq})"
                if seq > expected
                else f"event {seq} is out of order"
            )
        expected = seq + 1
        leaf = sha256(b"\x00" + data).digest()
        if first_content_problem is None:
            if leaf != bytes(stored_leaf):
                first_content_problem = (
                    f"event {seq} was altered: its content does not match "
                    "the hash recorded when it was appended"
                )
            else:
                parts = data.split(b"\t", 7)
                if (
                    len(parts) < 8
                    or parts[1] != str(seq).encode()
                    or parts[3] != event_type.encode()
                    or parts[6] != subject_id.encode()
                ):
                    first_content_problem = (
                        f"event {seq}: its look-up columns disagree with its content"
                    )
        append(leaf)
        report.events += 1
        if compact.size in by_size:
            root = compact.root()
            for label, signed_root in by_size.pop(compact.size):
                if root != signed_root:
                    report.problems.append(
                        f"the first {compact.size} events do not match {label}: "
                        f"the history up to event {compact.size - 1} was rewritten"
                    )
    if first_content_problem is not None:
        report.problems.insert(0, first_content_problem)
    from safehold.audit.models import Head

    head = Head.objects.filter(id=1).first()
    if head is not None and head.size != report.events:
        report.problems.append(
            f"the log holds {report.events} events but its head records {head.size}: "
            + (
                "events were removed from the end"
                if head.size > report.events
                else "events were added around the head"
            )
        )
    elif (
        head is not None
        and report.events
        and compact.root() != _edge_root(bytes(head.edge), head.size)
    ):
        report.problems.append("the log's last events do not match the tree its head records")
    signed = max((size for _label, size, _root in checkpoints), default=0)
    report.unsigned = max(0, report.events - signed)
    for size in sorted(by_size):
        for label, _root in by_size[size]:
            report.problems.append(
                f"the log ends after {report.events} events but {label} covers {size}: "
                f"events from {report.events} on were removed"
            )
    return report
