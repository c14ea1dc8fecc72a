"""Merkle hashing and proofs: published RFC 6962 vectors, and the RFC 9162 definitions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from safehold.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MemoryNodes,
    MissingNodeError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    perfect_nodes_for_range,
    root_at,
    root_of,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex

# --- Published test vectors ------------------------------------------------------------------
# Copied from transparency-dev/merkle, proof/verify_test.go (`leaves`, `roots`,
# `inclusionProofs`, `consistencyProofs`), the same data as google/certificate-transparency
# python/ct/crypto/merkle_test.py (`test_vector_leaves`, `test_vector_hashes`,
# `sha256_proofs`), which lifted them from CT's C++ merkle_tree_test.cc.

VECTOR_LEAVES = [
    h(""),
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]
VECTOR_ROOTS = [  # MTH of the first 1, 2, ... 8 leaves
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]
# (leaf index, tree size, proof); the Go file numbers leaves from 1, here they count from 0.
VECTOR_INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (2, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        1,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]
# (old size, new size, proof)
VECTOR_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]
# A real CT log's audit path, from google/certificate-transparency
# python/ct/crypto/merkle_test.py (`MerkleVerifierTest`: leaf_hash, leaf_index, tree_size,
# sha256_audit_path, expected_root_hash).
CT_LEAF_HASH = h("7a395c866d5ecdb0cccb623e011dbc392cd348d1d1d72776174e127a24b09c78")
CT_LEAF_INDEX = 848049
CT_TREE_SIZE = 3630887
CT_ROOT = h("78316a05c9bcf14a3a4548f5b854a9adfcd46a4c034401b3ce7eb7ac2f1d0ecb")
CT_AUDIT_PATH = [
    h(x)
    for x in (
        "1a208aeebcd1b39fe2de247ee8db9454e1e93a312d206b87f6ca9cc6ec6f1ddd",
        "0a1b78b383f580856f433c01a5741e160d451c185910027f6cc9f828687a40c4",
        "3d1745789bc63f2da15850de1c12a5bf46ed81e1cc90f086148b1662e79aab3d",
        "9095b61e14d8990acf390905621e62b1714fb8e399fbb71de5510e0aef45affe",
        "0a332b91b8fab564e6afd1dd452449e04619b18accc0ff9aa8393cd4928451f2",
        "2336f0181d264aed6d8f3a6507ca14a8d3b3c3a23791ac263e845d208c1ee330",
        "b4ce56e300590500360c146c6452edbede25d4ed83919278749ee5dbe178e048",
        "933f6ddc848ea562e4f9c5cfb5f176941301dad0c6fdb9d1fbbe34fac1be6966",
        "b95a6222958a86f74c030be27c44f57dbe313e5e7c7f4ffb98bcbd3a03bb52f2",
        "daeeb3ce5923defd0faeb8e0c210b753b85b809445d7d3d3cd537a9aabaa9c45",
        "7fadd0a13e9138a2aa6c3fdec4e2275af233b94812784f66bcca9aa8e989f2bc",
        "1864e6ba3e32878610546539734fb5eeae2529991f130c575c73a7e25a2a7c56",
        "12842d1202b1dc6828a17ab253c02e7ce9409b5192430feba44189f39cc02d66",
        "29af64b16fa3053c13d02ac63aa75b23aa468506e44c3a2315edc85d2dc22b11",
        "b527b99934a0bd9edd154e449b0502e2c499bba783f3bc3dfe23364b6b532009",
        "4584db8ae8e351ace08e01f306378a92bfd43611714814f3d834a2842d69faa8",
        "86a9a41573b0d6e4292f01e93243d6cc65b30f06606fc6fa57390e7e90ed580f",
        "a88b98fbe84d4c6aae8db9d1605dfac059d9f03fe0fcb0d5dff1295dacba09e6",
        "06326dc617a6d1f7021dc536026dbfd5fffc6f7c5531d48ef6ccd1ed1569f2a1",
        "f41fe8fdc3a2e4e8345e30216e7ebecffee26ff266eeced208a6c2a3cf08f960",
        "40cf5bde8abb76983f3e98ba97aa36240402975674e120f234b3448911090f8d",
        "b3222dc8658538079883d980d7fdc2bef9285344ea34338968f736b04aeb387a",
    )
]


@pytest.fixture(scope="module")
def vector_store() -> MemoryNodes:
    return MemoryNodes.from_leaves([leaf_hash(d) for d in VECTOR_LEAVES])


def test_hash_primitives_match_the_published_values() -> None:
    # google/certificate-transparency python/ct/crypto/merkle_test.py `TreeHasherTest`
    assert h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == EMPTY_ROOT
    assert leaf_hash(b"") == h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert leaf_hash(h("101112131415161718191a1b1c1d1e1f")) == h(
        "3bfb960453ebaebf33727da7a1f4db38acc051d381b6da20d6d4e88f0eabfd7a"
    )
    assert node_hash(
        h("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
        h("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"),
    ) == h("1a378704c17da31e2d05b6d121c2bb2c7d76f6ee6fa8f983e596c2d034963c57")


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_published_vectors(size: int, vector_store: MemoryNodes) -> None:
    leaves = [leaf_hash(d) for d in VECTOR_LEAVES[:size]]
    tree = CompactRange()
    for leaf in leaves:
        tree.append(leaf)
    assert tree.root() == VECTOR_ROOTS[size - 1]
    assert root_of(leaves) == (size, VECTOR_ROOTS[size - 1])
    assert root_at(size, vector_store) == VECTOR_ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "proof"), VECTOR_INCLUSION)
def test_inclusion_proofs_match_the_published_vectors(
    index: int, size: int, proof: list[bytes], vector_store: MemoryNodes
) -> None:
    assert inclusion_proof(index, size, vector_store) == proof
    leaf = leaf_hash(VECTOR_LEAVES[index])
    assert verify_inclusion(leaf, index, size, proof, VECTOR_ROOTS[size - 1])


@pytest.mark.parametrize(("old", "new", "proof"), VECTOR_CONSISTENCY)
def test_consistency_proofs_match_the_published_vectors(
    old: int, new: int, proof: list[bytes], vector_store: MemoryNodes
) -> None:
    assert consistency_proof(old, new, vector_store) == proof
    assert verify_consistency(old, new, VECTOR_ROOTS[old - 1], VECTOR_ROOTS[new - 1], proof)


def test_a_real_ct_audit_path_verifies() -> None:
    assert verify_inclusion(CT_LEAF_HASH, CT_LEAF_INDEX, CT_TREE_SIZE, CT_AUDIT_PATH, CT_ROOT)
    assert not verify_inclusion(CT_LEAF_HASH, CT_LEAF_INDEX, CT_TREE_SIZE, CT_AUDIT_PATH, bytes(32))
    assert not verify_inclusion(
        CT_LEAF_HASH, CT_LEAF_INDEX + 1, CT_TREE_SIZE, CT_AUDIT_PATH, CT_ROOT
    )


# --- The RFC 9162 definitions, written out naively --------------------------------------------


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(d: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over entries, RFC 9162 §2.1.1."""
    n = len(d)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hash(d[0])
    k = _k(n)
    return node_hash(naive_mth(d[:k]), naive_mth(d[k:]))


def naive_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]), RFC 9162 §2.1.3.1."""
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*naive_path(m, d[:k]), naive_mth(d[k:])]
    return [*naive_path(m - k, d[k:]), naive_mth(d[:k])]


def naive_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b), RFC 9162 §2.1.4.1."""
    n = len(d)
    if m == n:
        return [] if b else [naive_mth(d)]
    k = _k(n)
    if m <= k:
        return [*naive_subproof(m, d[:k], b), naive_mth(d[k:])]
    return [*naive_subproof(m - k, d[k:], False), naive_mth(d[:k])]


def naive_proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]), RFC 9162 §2.1.4.1."""
    return naive_subproof(m, d, True)


MAX_SIZE = 70
ENTRIES = [f"entry {i}".encode() for i in range(MAX_SIZE)]
LEAVES = [leaf_hash(e) for e in ENTRIES]
NAIVE_ROOTS = [naive_mth(ENTRIES[:n]) for n in range(MAX_SIZE + 1)]


class CountingReader:
    """Wraps a reader and records each get_nodes call's keys."""

    def __init__(self, inner: MemoryNodes) -> None:
        self.inner = inner
        self.calls: list[list[tuple[int, int]]] = []

    def get_nodes(self, keys: Sequence[tuple[int, int]]) -> Mapping[tuple[int, int], bytes]:
        self.calls.append(list(keys))
        return self.inner.get_nodes(keys)


@pytest.fixture(scope="module")
def store() -> MemoryNodes:
    return MemoryNodes.from_leaves(LEAVES)


def _flip(proof: list[bytes], i: int) -> list[bytes]:
    bad = list(proof)
    bad[i] = bytes([bad[i][0] ^ 0x10]) + bad[i][1:]
    return bad


def test_roots_equal_the_rfc_definition_at_every_size(store: MemoryNodes) -> None:
    tree = CompactRange()
    assert tree.root() == EMPTY_ROOT == root_at(0, store)
    assert root_of([]) == (0, EMPTY_ROOT)
    for n in range(1, MAX_SIZE + 1):
        tree.append(LEAVES[n - 1])
        reader = CountingReader(store)
        assert tree.root() == NAIVE_ROOTS[n]
        assert root_at(n, reader) == NAIVE_ROOTS[n]
        assert len(reader.calls) == 1
        assert len(reader.calls[0]) == n.bit_count()
        assert root_of(LEAVES[:n]) == (n, NAIVE_ROOTS[n])


def test_inclusion_proofs_equal_the_rfc_definition_and_verify(store: MemoryNodes) -> None:
    for n in range(1, MAX_SIZE + 1):
        root = NAIVE_ROOTS[n]
        for m in range(n):
            reader = CountingReader(store)
            proof = inclusion_proof(m, n, reader)
            assert proof == naive_path(m, ENTRIES[:n]), (m, n)
            assert len(reader.calls) == (1 if n > 1 else 0)
            assert verify_inclusion(LEAVES[m], m, n, proof, root)


def test_tampered_inclusion_proofs_fail(store: MemoryNodes) -> None:
    for n in range(1, MAX_SIZE + 1):
        root = NAIVE_ROOTS[n]
        for m in range(n):
            proof = inclusion_proof(m, n, store)
            leaf = LEAVES[m]
            for i in range(len(proof)):
                assert not verify_inclusion(leaf, m, n, _flip(proof, i), root)
            if proof:
                assert not verify_inclusion(leaf, m, n, proof[:-1], root)
                assert not verify_inclusion(leaf, m, n, proof[1:], root)
            assert not verify_inclusion(leaf, m, n, [*proof, root], root)
            assert not verify_inclusion(leaf, m, n, [root, *proof], root)
            assert not verify_inclusion(LEAVES[(m + 1) % MAX_SIZE], m, n, proof, root)
            assert not verify_inclusion(leaf, m, n, proof, NAIVE_ROOTS[n - 1])
            for wrong_m in {m - 1, m + 1, m ^ 2, m ^ 1} - {m}:
                assert not verify_inclusion(leaf, wrong_m, n, proof, root), (m, wrong_m, n)
            for wrong_n in {n * 2, n // 2} - {n}:
                assert not verify_inclusion(leaf, m, wrong_n, proof, root), (m, n, wrong_n)
            for wrong_n in {n - 1, n + 1} - {0, m, MAX_SIZE + 1}:
                # Against that size's own root. (With *this* root a neighbouring size can
                # pass: RFC 9162 binds size to root only through the signed tree head, so a
                # verifier must take both from the same checkpoint.)
                assert not verify_inclusion(leaf, m, wrong_n, proof, NAIVE_ROOTS[wrong_n])


def test_consistency_proofs_equal_the_rfc_definition_and_verify(store: MemoryNodes) -> None:
    for n in range(1, MAX_SIZE + 1):
        for m in range(1, n + 1):
            reader = CountingReader(store)
            proof = consistency_proof(m, n, reader)
            assert proof == (naive_proof(m, ENTRIES[:n]) if m < n else []), (m, n)
            assert len(reader.calls) == (1 if m < n else 0)
            assert verify_consistency(m, n, NAIVE_ROOTS[m], NAIVE_ROOTS[n], proof)


def test_tampered_consistency_proofs_fail(store: MemoryNodes) -> None:
    for n in range(2, MAX_SIZE + 1):
        for m in range(1, n):
            old, new = NAIVE_ROOTS[m], NAIVE_ROOTS[n]
            proof = consistency_proof(m, n, store)
            for i in range(len(proof)):
                assert not verify_consistency(m, n, old, new, _flip(proof, i)), (m, n, i)
            assert not verify_consistency(m, n, old, new, proof[:-1])
            assert not verify_consistency(m, n, old, new, proof[1:])
            assert not verify_consistency(m, n, old, new, [])
            assert not verify_consistency(m, n, old, new, [*proof, old])
            assert not verify_consistency(m, n, old, new, [proof[0], *proof])
            assert not verify_consistency(m, n, new, old, proof)
            assert not verify_consistency(m, n, bytes(32), new, proof)
            assert not verify_consistency(m, n, old, bytes(32), proof)
            for wrong_m in {m - 1, m + 1, m ^ 2} - {m}:
                wrong_old = NAIVE_ROOTS[wrong_m] if 0 <= wrong_m <= MAX_SIZE else old
                assert not verify_consistency(wrong_m, n, old, new, proof), (m, wrong_m, n)
                assert not verify_consistency(wrong_m, n, wrong_old, new, proof), (m, wrong_m)
            for wrong_n in {n * 2, n // 2} - {n}:
                assert not verify_consistency(m, wrong_n, old, new, proof), (m, n, wrong_n)
            for wrong_n in {n - 1, n + 1} - {m, MAX_SIZE + 1}:
                # Against that size's own root; see the inclusion test for why not this one.
                wrong_new = NAIVE_ROOTS[wrong_n]
                assert not verify_consistency(m, wrong_n, old, wrong_new, proof), (m, n, wrong_n)


def test_verifiers_reject_malformed_input() -> None:
    leaf = LEAVES[0]
    assert verify_inclusion(leaf, 0, 1, [], leaf)
    assert not verify_inclusion(leaf, 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(leaf, -1, 1, [], leaf)
    assert not verify_inclusion(leaf, 1, 1, [], leaf)
    assert not verify_inclusion(leaf, 0, 2, [b"short"], leaf)
    assert not verify_inclusion(leaf, 0, 1, [], EMPTY_ROOT)

    r1, r2 = NAIVE_ROOTS[1], NAIVE_ROOTS[2]
    assert verify_consistency(1, 1, r1, r1, [])
    assert not verify_consistency(1, 1, r1, r1, [r1])
    assert not verify_consistency(1, 1, r1, r2, [])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, NAIVE_ROOTS[5], [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, NAIVE_ROOTS[5], [EMPTY_ROOT])
    assert not verify_consistency(0, 5, r1, NAIVE_ROOTS[5], [])
    assert not verify_consistency(2, 1, r2, r1, [])
    assert not verify_consistency(-1, 1, r1, r1, [])
    assert not verify_consistency(1, 2, r1, r2, [b"short"])


def test_proof_arguments_are_checked(store: MemoryNodes) -> None:
    for index, size in [(0, 0), (-1, 3), (3, 3), (5, 3)]:
        with pytest.raises(ValueError, match="index"):
            inclusion_proof(index, size, store)
    for old, new in [(0, 0), (0, 3), (4, 3), (-1, 3)]:
        with pytest.raises(ValueError, match="old_size"):
            consistency_proof(old, new, store)
    with pytest.raises(ValueError, match="size"):
        root_at(-1, store)
    with pytest.raises(ValueError, match="start"):
        perfect_nodes_for_range(5, 4)


def test_a_missing_node_is_reported_by_coordinates_only() -> None:
    partial = MemoryNodes.from_leaves(LEAVES[:8])
    del partial.nodes[1, 1]
    with pytest.raises(MissingNodeError, match=r"\(level 1, index 1\)") as excinfo:
        inclusion_proof(0, 8, partial)
    assert excinfo.value.keys == [(1, 1)]
    with pytest.raises(MissingNodeError):
        root_at(9, partial)


# --- Compact range and storage ----------------------------------------------------------------


def _all_perfect_nodes(entries: Sequence[bytes]) -> dict[tuple[int, int], bytes]:
    """Every complete perfect subtree of the tree over ``entries``, by the RFC definition."""
    nodes = {}
    level = 0
    while (1 << level) <= len(entries):
        width = 1 << level
        for index in range(len(entries) // width):
            part = entries[index * width : (index + 1) * width]
            nodes[level, index] = naive_mth(part)
        level += 1
    return nodes


def test_append_returns_exactly_the_nodes_it_completes() -> None:
    tree = CompactRange()
    assert tree.append(LEAVES[0]) == [(0, 0, LEAVES[0])]
    assert tree.append(LEAVES[1]) == [(0, 1, LEAVES[1]), (1, 0, NAIVE_ROOTS[2])]
    assert tree.append(LEAVES[2]) == [(0, 2, LEAVES[2])]
    got = tree.append(LEAVES[3])
    assert got == [
        (0, 3, LEAVES[3]),
        (1, 1, naive_mth(ENTRIES[2:4])),
        (2, 0, NAIVE_ROOTS[4]),
    ]
    seen: dict[tuple[int, int], bytes] = {}
    tree = CompactRange()
    for n, leaf in enumerate(LEAVES, start=1):
        completed = tree.append(leaf)
        assert completed[0] == (0, n - 1, leaf)
        # Leaf n-1 closes one node per trailing one-bit of n-1, bottom-up.
        assert [lv for lv, _, _ in completed] == list(range(len(completed)))
        assert len(completed) == 1 + ((n - 1) ^ n).bit_length() - 1
        for level, index, digest in completed:
            assert (level, index) not in seen
            assert (index + 1) << level == n  # the node ends exactly at the new leaf
            seen[level, index] = digest
        assert tree.size == n
    assert seen == _all_perfect_nodes(ENTRIES)


@pytest.mark.parametrize("min_level", [1, 2, 4])
def test_extend_storing_reports_what_repeated_appends_complete(min_level: int) -> None:
    """The append path's one-pass tree update: same nodes, same order, same edge."""
    for start in range(0, 20):
        for count in (1, 2, 3, 7, 16, 17):
            one_by_one = CompactRange.from_nodes(start, MemoryNodes.from_leaves(LEAVES[:start]))
            at_once = one_by_one.copy()
            expected = [
                node
                for leaf in LEAVES[start : start + count]
                for node in one_by_one.append(leaf)
                if node[0] >= min_level
            ]
            assert at_once.extend_storing(LEAVES[start : start + count], min_level) == expected
            assert (at_once.size, at_once.hashes) == (one_by_one.size, one_by_one.hashes)
    with pytest.raises(ValueError, match="from level 1"):
        CompactRange().extend_storing(LEAVES[:2], 0)


def test_from_leaves_stores_exactly_the_perfect_nodes(store: MemoryNodes) -> None:
    assert store.nodes == _all_perfect_nodes(ENTRIES)
    assert len(store.nodes) == 2 * MAX_SIZE - MAX_SIZE.bit_count()


def test_append_fast_extend_copy_and_resume_agree() -> None:
    slow, fast, bulk = CompactRange(), CompactRange(), CompactRange()
    bulk.extend(LEAVES[:30])
    for n, leaf in enumerate(LEAVES[:30], start=1):
        slow.append(leaf)
        fast.append_fast(leaf)
        assert slow.hashes == fast.hashes
        assert slow.root() == fast.root() == NAIVE_ROOTS[n]
    assert bulk.size == 30
    assert bulk.hashes == slow.hashes

    snapshot = slow.copy()
    slow.append(LEAVES[30])
    assert snapshot.size == 30
    assert snapshot.root() == NAIVE_ROOTS[30]
    assert slow.root() == NAIVE_ROOTS[31]

    store = MemoryNodes.from_leaves(LEAVES)
    for n in range(MAX_SIZE + 1):
        reader = CountingReader(store)
        resumed = CompactRange.from_nodes(n, reader)
        assert len(reader.calls) == (1 if n else 0)
        assert resumed.size == n
        assert resumed.root() == NAIVE_ROOTS[n]
        resumed.extend(LEAVES[n:])
        assert resumed.root() == NAIVE_ROOTS[MAX_SIZE]


def test_compact_range_checks_its_state() -> None:
    with pytest.raises(ValueError, match="popcount"):
        CompactRange(3, [LEAVES[0]])
    with pytest.raises(ValueError, match="popcount"):
        CompactRange(-1)
    assert CompactRange(2, [NAIVE_ROOTS[2]]).root() == NAIVE_ROOTS[2]


def test_perfect_nodes_for_range() -> None:
    assert perfect_nodes_for_range(0, 0) == []
    assert perfect_nodes_for_range(0, 1) == [(0, 0)]
    assert perfect_nodes_for_range(0, 7) == [(2, 0), (1, 2), (0, 6)]
    assert perfect_nodes_for_range(8, 15) == [(2, 2), (1, 6), (0, 14)]
    assert perfect_nodes_for_range(0, 16) == [(4, 0)]
    # An unaligned range: sizes rise, then fall (not an RFC subtree).
    assert perfect_nodes_for_range(3, 13) == [(0, 3), (2, 1), (2, 2), (0, 12)]
    for start in range(40):
        for end in range(start, 40):
            covered: list[int] = []
            for level, index in perfect_nodes_for_range(start, end):
                covered.extend(range(index << level, (index + 1) << level))
            assert covered == list(range(start, end))


def test_proofs_stay_logarithmic_on_a_huge_tree() -> None:
    """On a 10-million-leaf tree only ~2*log2(n) distinct nodes are read, in one call."""

    class AnyNode:
        def __init__(self) -> None:
            self.calls: list[int] = []

        def get_nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
            self.calls.append(len(keys))
            return {k: node_hash(k[0].to_bytes(32, "big"), k[1].to_bytes(32, "big")) for k in keys}

    n = 10_000_000
    reader = AnyNode()
    for index in (0, 1, n // 3, n - 2, n - 1):
        proof = inclusion_proof(index, n, reader)
        assert len(proof) <= n.bit_length()
    for old in (1, 2, n // 3, 2**23, n - 1):
        proof = consistency_proof(old, n, reader)
        assert len(proof) <= 2 * n.bit_length()
    assert len(reader.calls) == 10
    assert max(reader.calls) <= 2 * n.bit_length()


# --- Larger trees, sampled --------------------------------------------------------------------


def test_random_larger_trees_against_the_rfc_definition() -> None:
    """Hypothesis samples sizes past the exhaustive range (up to 600 leaves)."""
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    entries = [f"big {i}".encode() for i in range(600)]
    store = MemoryNodes.from_leaves([leaf_hash(e) for e in entries])

    @hypothesis.settings(max_examples=150, deadline=None, database=None)
    @hypothesis.given(
        st.integers(1, 600).flatmap(
            lambda n: st.tuples(st.just(n), st.integers(0, n - 1), st.integers(1, n))
        )
    )
    def check(case: tuple[int, int, int]) -> None:
        n, m, old = case
        root = naive_mth(entries[:n])
        assert root_at(n, store) == root
        path = inclusion_proof(m, n, store)
        assert path == naive_path(m, entries[:n])
        assert verify_inclusion(leaf_hash(entries[m]), m, n, path, root)
        proof = consistency_proof(old, n, store)
        assert proof == (naive_proof(old, entries[:n]) if old < n else [])
        assert verify_consistency(old, n, naive_mth(entries[:old]), root, proof)

    check()
