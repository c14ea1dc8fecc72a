"""The key hierarchy: master key -> versioned key-encryption keys (KEKs) -> one data key per person.

All keys are 256-bit AES-GCM keys. A KEK is stored wrapped by the master key; a data
key is stored wrapped by a KEK, bound to its own id. Unwrapped KEKs are cached for the
life of the process; unwrapped data keys for one request at most.
"""

from __future__ import annotations

import functools
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from safehold.vault.exceptions import KeyShredded, VaultError, VaultIntegrityError
from safehold.vault.keystore import get_keystore
from safehold.vault.masterkey import NONCE_BYTES, get_master_key_provider

KEY_BYTES = 32
BLIND_INDEX_SECRET = "blind-index-v1"  # noqa: S105  # a name, not a secret

_kek_cache: dict[int, AESGCM] = {}
_kek_lock = threading.Lock()
_local = threading.local()


def _kek_context(version: int) -> bytes:
    return f"safehold/kek/{version}".encode()


def _data_key_context(key_id: str) -> bytes:
    return f"safehold/data-key/{key_id}".encode()


def _seal(aead: AESGCM, plaintext: bytes, context: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + aead.encrypt(nonce, plaintext, context)


def _open(aead: AESGCM, sealed: bytes, context: bytes) -> bytes:
    return aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context)


# --- key-encryption keys ------------------------------------------------------------------


def kek(version: int) -> AESGCM:
    """The unwrapped KEK of ``version``."""
    cached = _kek_cache.get(version)
    if cached is not None:
        return cached
    stored = get_keystore().kek(version)
    if stored is None:
        raise VaultError(f"key-encryption key version {version} is not in the key store")
    raw = get_master_key_provider().unwrap(stored.wrapped, context=_kek_context(version))
    aead = AESGCM(raw)
    _kek_cache[version] = aead
    return aead


def _add_kek() -> int:
    """Create the next KEK version and make it the active one; return its version."""
    store = get_keystore()
    while True:
        version = max((k.version for k in store.keks()), default=0) + 1
        wrapped = get_master_key_provider().wrap(
            AESGCM.generate_key(bit_length=256), context=_kek_context(version)
        )
        if store.add_kek(version, wrapped):
            return version


def active_kek_version() -> int:
    """The KEK that wraps new data keys (created on first use)."""
    with _kek_lock:
        for stored in reversed(get_keystore().keks()):
            if stored.state == "active":
                return stored.version
        return _add_kek()


# --- data keys ------------------------------------------------------------------------------


def _cache() -> dict[str, AESGCM | None]:
    cache = getattr(_local, "data_keys", None)
    if cache is None:
        cache = _local.data_keys = {}
    return cache


def forget_cached_keys(**_: object) -> None:
    """Drop this thread's unwrapped data keys (at the start and end of each request)."""
    _local.data_keys = {}


def create_data_key() -> str:
    """Make a new data key for one person; return its id (stored with their rows)."""
    key_id = uuid.uuid4().hex
    version = active_kek_version()
    raw = AESGCM.generate_key(bit_length=256)
    get_keystore().add_data_key(
        key_id, version, _seal(kek(version), raw, _data_key_context(key_id))
    )
    _cache()[key_id] = AESGCM(raw)
    return key_id


def data_key(key_id: str) -> AESGCM:
    """The unwrapped data key ``key_id``.

    Raises ``KeyShredded`` if it was destroyed, ``VaultIntegrityError`` if its wrapping
    was altered, ``VaultError`` if the key store has no such key.
    """
    cache = _cache()
    if key_id in cache:
        aead = cache[key_id]
        if aead is None:
            raise KeyShredded(f"data key {key_id} was shredded")
        return aead
    stored = get_keystore().data_key(key_id)
    if stored is None:
        raise VaultError(f"data key {key_id} is not in the key store")
    if stored.wrapped is None:
        cache[key_id] = None
        raise KeyShredded(f"data key {key_id} was shredded")
    try:
        raw = _open(kek(stored.kek_version), stored.wrapped, _data_key_context(key_id))
    except InvalidTag:
        raise VaultIntegrityError(
            f"the wrapping of data key {key_id} failed authentication"
        ) from None
    aead = AESGCM(raw)
    cache[key_id] = aead
    return aead


def is_shredded(key_id: str) -> bool:
    stored = get_keystore().data_key(key_id)
    return stored is not None and stored.wrapped is None


def shred_data_key(key_id: str) -> bool:
    """Destroy a person's data key: every value under it is unreadable from now on,
    in this database and in every copy of it. Returns False if it was gone already."""
    shredded = get_keystore().shred_data_key(key_id)
    _cache()[key_id] = None
    if shredded:
        from safehold.vault.signals import data_key_shredded

        data_key_shredded.send(sender=None, key_id=key_id)
    return shredded


# --- rotation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RotationResult:
    version: int
    rewrapped: int
    resumed: bool


def rotate(
    *,
    batch_size: int = 1000,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RotationResult:
    """Re-wrap every live data key under a new KEK, without stopping reads or writes.

    If an earlier rotation was interrupted (data keys still under an older KEK while
    a newer one is active), it is finished instead of starting another. Reads keep
    working throughout: an old KEK stays in the store until no live data key needs it,
    and is then marked retired. ``progress(done, total)`` is called after each batch;
    ``should_stop()`` is checked between batches (an interrupted run resumes next time).
    """
    store = get_keystore()
    current = active_kek_version()
    pending = sum(
        live for version, (live, _) in store.count_by_version().items() if version < current
    )
    resumed = pending > 0
    if not resumed:
        with _kek_lock:
            current = _add_kek()
        pending = sum(
            live for version, (live, _) in store.count_by_version().items() if version < current
        )
    target = kek(current)
    done = 0
    if progress:
        progress(done, pending)
    while True:
        if should_stop and should_stop():
            return RotationResult(current, done, resumed)
        batch = store.data_keys_below(current, batch_size)
        if not batch:
            break
        updates = []
        for stored in batch:
            context = _data_key_context(stored.id)
            assert stored.wrapped is not None  # noqa: S101  # data_keys_below returns live keys only
            try:
                raw = _open(kek(stored.kek_version), stored.wrapped, context)
            except InvalidTag:
                raise VaultIntegrityError(
                    f"the wrapping of data key {stored.id} failed authentication"
                ) from None
            updates.append((stored.id, stored.kek_version, current, _seal(target, raw, context)))
        done += store.rewrap(updates)
        if progress:
            progress(done, max(pending, done))
    from safehold.vault.signals import keys_rotated

    keys_rotated.send(sender=None, version=current, rewrapped=done, resumed=resumed)
    counts = store.count_by_version()
    for old_kek in store.keks():
        if (
            old_kek.version < current
            and old_kek.state != "retired"
            and counts.get(old_kek.version, (0, 0))[0] == 0
        ):
            store.set_kek_state(old_kek.version, "retired")
    return RotationResult(current, done, resumed)


@dataclass(frozen=True)
class KekStatus:
    version: int
    state: str
    created_at: str
    live_keys: int
    shredded_keys: int


def status() -> list[KekStatus]:
    store = get_keystore()
    counts = store.count_by_version()
    return [
        KekStatus(k.version, k.state, k.created_at, *counts.get(k.version, (0, 0)))
        for k in store.keks()
    ]


# --- installation-wide secrets (the blind-index key, the MFA-secret key) -------------------------


@functools.cache
def system_secret(name: str) -> bytes:
    """A 256-bit secret of this installation, created on first use, wrapped by the master key."""
    store = get_keystore()
    context = f"safehold/secret/{name}".encode()
    wrapped = store.secret(name)
    if wrapped is None:
        store.add_secret(
            name, get_master_key_provider().wrap(os.urandom(KEY_BYTES), context=context)
        )
        wrapped = store.secret(name)
        assert wrapped is not None  # noqa: S101  # just written (or by a racing process)
    return get_master_key_provider().unwrap(wrapped, context=context)


def blind_index_key() -> bytes:
    """The secret behind every blind index."""
    return system_secret(BLIND_INDEX_SECRET)


def forget_system_secrets() -> None:
    """Forget cached secrets and KEKs (tests that swap the key store)."""
    system_secret.cache_clear()
    _kek_cache.clear()
    forget_cached_keys()
