"""Merkle tree hashing and proofs for the audit log (RFC 6962 §2.1 / RFC 9162 §2.1, SHA-256).

Pure Python, no Django. The log's leaves are *leaf hashes* (``leaf_hash(entry)``); every
function here takes and returns leaf hashes, never entry bytes, except ``leaf_hash`` itself.

Storage model: a log keeps the hash of every *perfect* subtree, addressed ``(level, index)``:
the node at level ``L``, index ``k`` is MTH(D[k*2^L : (k+1)*2^L]); level 0 holds the leaf
hashes. Perfect nodes never change once complete, so they can be stored append-only
(``CompactRange.append`` returns exactly the nodes each new leaf completes).

Every subtree hash the RFC's recursive definitions (MTH, PATH, PROOF) need is MTH(D[a:b]) where
``a`` is a multiple of the largest power of two not exceeding ``b - a`` (or ``a == 0``). Such a
range splits, from the left, into perfect subtrees of strictly decreasing size, and folding
those from the right with ``node_hash`` gives MTH(D[a:b]): that is the RFC's split at "the
largest power of two smaller than n", applied repeatedly. So a root or a proof needs only
O(log n) stored nodes, all known from the sizes alone, fetched in one ``NodeReader.get_nodes``
call; no per-leaf work.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "MemoryNodes",
    "MissingNodeError",
    "NodeReader",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "perfect_nodes_for_range",
    "root_at",
    "root_of",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
#: MTH({}) = SHA-256() — the root of the empty tree (RFC 9162 §2.1.1).
EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_sha256 = hashlib.sha256

Key = tuple[int, int]
"""A perfect-subtree address (level, index): leaves [index * 2**level, (index + 1) * 2**level)."""


def leaf_hash(data: bytes) -> bytes:
    """Return MTH({data}) = SHA-256(0x00 || data) (RFC 9162 §2.1.1)."""
    return _sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return SHA-256(0x01 || left || right), an interior node (RFC 9162 §2.1.1)."""
    return _sha256(_NODE_PREFIX + left + right).digest()


class MissingNodeError(LookupError):
    """A NodeReader did not return a node that a complete log must hold.

    The message carries only tree coordinates, never log content.
    """

    def __init__(self, keys: Iterable[Key]) -> None:
        self.keys = sorted(keys)
        shown = ", ".join(f"(level {lv}, index {ix})" for lv, ix in self.keys[:5])
        more = f" and {len(self.keys) - 5} more" if len(self.keys) > 5 else ""
        super().__init__(f"Merkle node(s) missing from storage: {shown}{more}")


class NodeReader(Protocol):
    """Read access to stored perfect-subtree hashes.

    ``get_nodes`` returns the hash of every requested ``(level, index)`` it holds (level 0 =
    leaf hashes); a key it does not hold is simply absent from the result, and the callers
    here then raise ``MissingNodeError``. It is called at most once per root or proof, with
    O(log n) distinct keys, so a database implementation should answer it with one query.
    """

    def get_nodes(self, keys: Sequence[Key]) -> Mapping[Key, bytes]: ...


def perfect_nodes_for_range(start: int, end: int) -> list[Key]:
    """Split leaves [start, end) into the fewest aligned perfect subtrees, left to right.

    Each step takes the largest block 2**L with ``start % 2**L == 0`` and
    ``start + 2**L <= end``. For ``start == 0`` — and for every range the RFC recursion
    visits — the sizes strictly decrease, and folding the hashes from the right with
    ``node_hash`` gives MTH(D[start:end]). For other ranges the result is the range's
    compact-range decomposition (sizes rise, then fall). Raises ValueError unless
    ``0 <= start <= end``.
    """
    if not 0 <= start <= end:
        raise ValueError("need 0 <= start <= end")
    keys: list[Key] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        keys.append((level, start >> level))
        start += 1 << level
    return keys


def _fold_right(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from its perfect parts, sizes decreasing: node_hash(p0, node_hash(p1, ..))."""
    sha = _sha256
    one = _NODE_PREFIX
    h = hashes[-1]
    for i in range(len(hashes) - 2, -1, -1):
        h = sha(one + hashes[i] + h).digest()
    return h


class CompactRange:
    """Streaming Merkle tree state over leaves [0, size): O(log n) memory.

    Holds the perfect-subtree hashes on the tree's right edge, largest (leftmost) first —
    one per set bit of ``size``, i.e. the nodes of ``perfect_nodes_for_range(0, size)``.
    """

    __slots__ = ("_hashes", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        """Start from ``size`` leaves summarised by their right-edge hashes (largest first).

        Raises ValueError if the number of hashes is not the number of set bits of ``size``.
        """
        if size < 0 or len(hashes) != size.bit_count():
            raise ValueError("a compact range of size n holds exactly popcount(n) hashes")
        self.size = size
        self._hashes = list(hashes)

    @classmethod
    def from_nodes(cls, size: int, reader: NodeReader) -> CompactRange:
        """Resume the state of a stored log of ``size`` leaves with one ``get_nodes`` call.

        Raises MissingNodeError if the reader lacks a right-edge node.
        """
        keys = perfect_nodes_for_range(0, size)
        return cls(size, _fetch(reader, keys, keys) if keys else [])

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The right-edge perfect-subtree hashes, largest first."""
        return tuple(self._hashes)

    def copy(self) -> CompactRange:
        """Return an independent copy (appending to one does not change the other)."""
        return CompactRange(self.size, self._hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; return every perfect node this completes as (level, index, hash).

        The list starts with ``(0, leaf_index, leaf)``, then one entry per level the new leaf
        closes, bottom-up: appending leaf 3 yields levels 0, 1 and 2. Storing every returned
        node is exactly what ``root_at`` and the proof functions later read.
        """
        return [(0, self.size, leaf), *self.extend_storing((leaf,), 1)]

    def append_fast(self, leaf: bytes) -> None:
        """Add a leaf hash without reporting the completed nodes (for verification)."""
        sha = _sha256
        one = _NODE_PREFIX
        hashes = self._hashes
        index = self.size
        h = leaf
        while index & 1:
            h = sha(one + hashes.pop() + h).digest()
            index >>= 1
        hashes.append(h)
        self.size += 1

    def append_subtree(self, level: int, subtree: bytes) -> None:
        """Add the root of 2**level leaves at once (verification in several processes:
        a worker sums its leaves up). The tree's size must be a multiple of 2**level."""
        if self.size & ((1 << level) - 1):
            raise ValueError("a subtree of 2**level leaves starts at a multiple of 2**level")
        sha = _sha256
        one = _NODE_PREFIX
        hashes = self._hashes
        index = self.size >> level
        h = subtree
        while index & 1:
            h = sha(one + hashes.pop() + h).digest()
            index >>= 1
        hashes.append(h)
        self.size += 1 << level

    def extend_storing(
        self, leaves: Iterable[bytes], min_level: int
    ) -> list[tuple[int, int, bytes]]:
        """Add leaf hashes in order; return the perfect nodes they complete at
        ``min_level`` (at least 1: the leaves are the caller's) and above, as (level,
        index, hash), in the order ``append`` gives."""
        if min_level < 1:
            raise ValueError("extend_storing reports nodes from level 1 up")
        sha = _sha256
        one = _NODE_PREFIX
        hashes = self._hashes
        pop = hashes.pop
        push = hashes.append
        size = self.size
        nodes: list[tuple[int, int, bytes]] = []
        for h in leaves:
            index = size
            level = 0
            while index & 1:
                h = sha(one + pop() + h).digest()
                index >>= 1
                level += 1
                if level >= min_level:
                    nodes.append((level, index, h))
            push(h)
            size += 1
        self.size = size
        return nodes

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Add many leaf hashes in order (the fast path, without completed nodes)."""
        self.size, self._hashes = _absorb(self.size, self._hashes, leaves)

    def root(self) -> bytes:
        """Return MTH of the leaves so far (RFC 9162 §2.1.1); EMPTY_ROOT for size 0."""
        return _fold_right(self._hashes) if self._hashes else EMPTY_ROOT

    def __repr__(self) -> str:
        return f"CompactRange(size={self.size})"


def _absorb(size: int, hashes: list[bytes], leaves: Iterable[bytes]) -> tuple[int, list[bytes]]:
    """The hot loop of ``root_of`` and ``CompactRange.extend``: ~2 SHA-256 per leaf, amortised."""
    sha = _sha256
    one = _NODE_PREFIX
    push = hashes.append
    pop = hashes.pop
    for leaf in leaves:
        h = leaf
        index = size
        while index & 1:
            h = sha(one + pop() + h).digest()
            index >>= 1
        push(h)
        size += 1
    return size, hashes


def root_of(leaves: Iterable[bytes]) -> tuple[int, bytes]:
    """Stream leaf hashes once; return (count, MTH) in O(log n) memory.

    This is the verifier's path: recompute the root of a whole log from its entries
    (``root_of(leaf_hash(e) for e in entries)``) and compare with a signed checkpoint.
    """
    size, hashes = _absorb(0, [], leaves)
    return size, (_fold_right(hashes) if hashes else EMPTY_ROOT)


# --- Proof planning -------------------------------------------------------------------------
# Each RFC definition is unrolled into the list of ranges [a, b) whose MTH makes up the answer,
# in the RFC's output order. Each range is then read as its perfect parts in one batch.


def _largest_power_of_two_below(n: int) -> int:
    """k with k < n <= 2k, for n >= 2 (RFC 9162 §2.1.1's split point)."""
    return 1 << ((n - 1).bit_length() - 1)


def _path_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges of PATH(index, D[size]) (RFC 9162 §2.1.3.1), leaf-side first."""
    lo, hi = 0, size
    ranges = []
    while hi - lo > 1:
        mid = lo + _largest_power_of_two_below(hi - lo)
        if index < mid:
            ranges.append((mid, hi))  # PATH(m, D[0:k]) : MTH(D[k:n])
            hi = mid
        else:
            ranges.append((lo, mid))  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            lo = mid
    ranges.reverse()
    return ranges


def _subproof_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The ranges of PROOF(old, D[new]) = SUBPROOF(old, D[new], true) (RFC 9162 §2.1.4.1)."""
    lo, hi = 0, new_size
    complete_subtree = True  # the RFC's flag b
    ranges = []
    while hi != old_size:
        mid = lo + _largest_power_of_two_below(hi - lo)
        if old_size <= mid:
            ranges.append((mid, hi))  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            hi = mid
        else:
            ranges.append((lo, mid))  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            lo = mid
            complete_subtree = False
    if not complete_subtree:
        ranges.append((lo, hi))  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
    ranges.reverse()
    return ranges


def _fetch(reader: NodeReader, keys: Sequence[Key], wanted: Sequence[Key]) -> list[bytes]:
    """Read the distinct ``keys`` in one ``get_nodes`` call; return ``wanted``'s hashes in order."""
    distinct = list(dict.fromkeys(keys))
    found = reader.get_nodes(distinct)
    missing = [k for k in distinct if k not in found]
    if missing:
        raise MissingNodeError(missing)
    return [found[k] for k in wanted]


def _hashes_of_ranges(ranges: Sequence[tuple[int, int]], reader: NodeReader) -> list[bytes]:
    """MTH of each RFC-aligned range, from one batch read of their perfect parts."""
    parts = [perfect_nodes_for_range(a, b) for a, b in ranges]
    flat = [key for keys in parts for key in keys]
    if not flat:
        return []
    hashes = _fetch(reader, flat, flat)
    out = []
    pos = 0
    for keys in parts:
        out.append(_fold_right(hashes[pos : pos + len(keys)]))
        pos += len(keys)
    return out


def root_at(size: int, reader: NodeReader) -> bytes:
    """Return MTH(D[0:size]) from at most ``popcount(size)`` stored nodes, one ``get_nodes`` call.

    EMPTY_ROOT for size 0 (no call). Raises ValueError for a negative size and
    MissingNodeError if the reader lacks a node.
    """
    if size < 0:
        raise ValueError("size must be >= 0")
    if size == 0:
        return EMPTY_ROOT
    return _hashes_of_ranges([(0, size)], reader)[0]


def inclusion_proof(index: int, size: int, reader: NodeReader) -> list[bytes]:
    """Return the audit path PATH(index, D[size]) (RFC 9162 §2.1.3.1), leaf-side first.

    At most ~2*log2(size) nodes, read in one ``get_nodes`` call (none for size 1).
    Raises ValueError unless ``0 <= index < size``; MissingNodeError if a node is missing.
    """
    if not 0 <= index < size:
        raise ValueError("need 0 <= index < size")
    return _hashes_of_ranges(_path_ranges(index, size), reader)


def consistency_proof(old_size: int, new_size: int, reader: NodeReader) -> list[bytes]:
    """Return PROOF(old_size, D[new_size]) (RFC 9162 §2.1.4.1).

    Empty when the sizes are equal; otherwise at most ~2*log2(new_size) nodes, read in one
    ``get_nodes`` call. Raises ValueError unless ``0 < old_size <= new_size``;
    MissingNodeError if a node is missing.
    """
    if not 0 < old_size <= new_size:
        raise ValueError("need 0 < old_size <= new_size")
    if old_size == new_size:
        return []
    return _hashes_of_ranges(_subproof_ranges(old_size, new_size), reader)


# --- Verification (no storage) --------------------------------------------------------------


def _is_hash_list(proof: Sequence[bytes]) -> bool:
    return all(isinstance(p, bytes) and len(p) == HASH_SIZE for p in proof)


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check that ``leaf`` (a leaf hash) is entry ``index`` of the tree of ``size`` with ``root``.

    RFC 9162 §2.1.3.2. Returns False — never raises — for any malformed input: an index out
    of range, a proof of the wrong length, or elements that are not 32-byte hashes.
    """
    if not 0 <= index < size or not _is_hash_list(proof):
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check that the tree (new_size, new_root) extends the tree (old_size, old_root).

    RFC 9162 §2.1.4.2. Equal sizes need an empty proof and equal roots; old size 0 needs an
    empty proof and ``old_root == EMPTY_ROOT`` (every tree extends the empty tree). Returns
    False — never raises — for malformed input (negative sizes, old_size > new_size, wrong
    proof length, elements that are not 32-byte hashes).
    """
    if not 0 <= old_size <= new_size or not _is_hash_list(proof):
        return False
    if old_size == new_size:
        return not proof and hmac.compare_digest(old_root, new_root)
    if old_size == 0:
        return not proof and hmac.compare_digest(old_root, EMPTY_ROOT)
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of 2: the old root is a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)


# --- An in-memory store ---------------------------------------------------------------------


class MemoryNodes:
    """A NodeReader over a dict ``{(level, index): hash}``: for tests and small tools."""

    def __init__(self, nodes: Mapping[Key, bytes] | None = None) -> None:
        self.nodes: dict[Key, bytes] = dict(nodes or {})

    @classmethod
    def from_leaves(cls, leaves: Iterable[bytes]) -> MemoryNodes:
        """Store every perfect node of the tree over these leaf hashes (as ``append`` reports)."""
        store = cls()
        tree = CompactRange()
        nodes = store.nodes
        for leaf in leaves:
            for level, index, h in tree.append(leaf):
                nodes[level, index] = h
        return store

    def get_nodes(self, keys: Sequence[Key]) -> dict[Key, bytes]:
        """Return the held hashes of ``keys``; keys not held are absent."""
        nodes = self.nodes
        return {k: nodes[k] for k in keys if k in nodes}
