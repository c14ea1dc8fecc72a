"""Contract tests: every master-key provider and every key-store backend passes these."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from safehold.vault.exceptions import VaultConfigError, VaultIntegrityError
from safehold.vault.keystore import KeyStore
from safehold.vault.masterkey import LocalMasterKey, MasterKeyProvider
from tests.conftest import skip_or_fail

PROVIDERS = [pytest.param(lambda: LocalMasterKey(os.urandom(32)), id="local")]


@pytest.mark.parametrize("make", PROVIDERS)
def test_master_key_provider_contract(make) -> None:  # type: ignore[no-untyped-def]
    provider: MasterKeyProvider = make()
    wrapped = provider.wrap(b"k" * 32, context=b"safehold/kek/1")
    assert b"k" * 32 not in wrapped
    assert provider.unwrap(wrapped, context=b"safehold/kek/1") == b"k" * 32
    with pytest.raises(VaultIntegrityError):
        provider.unwrap(wrapped, context=b"safehold/kek/2")  # bound to its context
    tampered = bytearray(wrapped)
    tampered[-1] ^= 1
    with pytest.raises(VaultIntegrityError):
        provider.unwrap(bytes(tampered), context=b"safehold/kek/1")
    assert provider.wrap(b"same", context=b"c") != provider.wrap(
        b"same", context=b"c"
    )  # fresh nonces


def test_local_master_key_refuses_a_bad_key(settings, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SAFEHOLD_MASTER_KEY", "not base64!")
    with pytest.raises(VaultConfigError, match="not base64"):
        LocalMasterKey()
    monkeypatch.setenv("SAFEHOLD_MASTER_KEY", "c2hvcnQ=")
    with pytest.raises(VaultConfigError, match="32 bytes"):
        LocalMasterKey()
    monkeypatch.delenv("SAFEHOLD_MASTER_KEY")
    settings.DATA_DIR = tmp_path
    with pytest.raises(VaultConfigError, match="no master key"):
        LocalMasterKey()


SCHEMA = "safehold_contract_test"


def _stores(tmp_path: Path) -> list[KeyStore]:
    """A SQLite store in a temporary file; a PostgreSQL one in a schema of its own, so
    the suite's own key store in the same database is not touched."""
    stores = [KeyStore(str(tmp_path / "keys.sqlite3"))]
    url = os.environ.get("SAFEHOLD_TEST_DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            admin.execute(f"CREATE SCHEMA {SCHEMA}")
        joiner = "&" if "?" in url else "?"
        stores.append(KeyStore(f"{url}{joiner}options=-csearch_path%3D{SCHEMA}"))
    return stores


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_key_store_contract(tmp_path: Path, backend: str) -> None:
    stores = {s.dialect: s for s in _stores(tmp_path)}
    if backend not in stores:
        if backend == "postgresql":
            pytest.skip(
                "the PostgreSQL key store is tested when SAFEHOLD_TEST_DATABASE_URL is PostgreSQL"
            )
        skip_or_fail(f"no {backend} key store")
    store = stores[backend]
    prefix = os.urandom(4).hex()
    try:
        assert store.keks() == []
        base = 0
        assert store.add_kek(base + 1, b"wrapped-1")
        assert not store.add_kek(base + 1, b"again")  # a version is made once
        assert store.add_kek(base + 2, b"wrapped-2")
        states = {k.version: k.state for k in store.keks()}
        assert (states[base + 1], states[base + 2]) == ("retiring", "active")

        store.add_data_key(f"{prefix}a", base + 1, b"dk-a")
        store.add_data_key(f"{prefix}b", base + 1, b"dk-b")
        assert store.data_key(f"{prefix}a").wrapped == b"dk-a"  # type: ignore[union-attr]
        assert store.data_key("missing") is None
        assert store.shred_data_key(f"{prefix}b")
        assert not store.shred_data_key(f"{prefix}b")
        shredded = store.data_key(f"{prefix}b")
        assert shredded is not None
        assert shredded.wrapped is None
        assert shredded.shredded_at

        below = [k.id for k in store.data_keys_below(base + 2, 100) if k.id.startswith(prefix)]
        assert below == [f"{prefix}a"]  # shredded keys are not re-wrapped
        assert store.rewrap([(f"{prefix}a", base + 1, base + 2, b"dk-a2")]) == 1
        assert store.rewrap([(f"{prefix}a", base + 1, base + 2, b"stale")]) == 0  # moved already
        assert store.data_key(f"{prefix}a").wrapped == b"dk-a2"  # type: ignore[union-attr]

        store.add_secret(f"{prefix}s", b"one")
        store.add_secret(f"{prefix}s", b"two")  # first writer wins
        assert store.secret(f"{prefix}s") == b"one"
    finally:
        if store.dialect == "postgresql":
            store._execute(f"DROP SCHEMA {SCHEMA} CASCADE")
        store.close()
