"""Vault costs: per encrypted field, on an account page, and key rotation throughput.

    python bench/vault.py [--fields 20000] [--pages 200] [--keys 50000]

Runs against a fresh data directory (SQLite, the embedded default) with the
production settings. Reports medians; the page comparison interleaves the two cases
(encrypted, and the same code with the cipher replaced by a pass-through) so that
the machine's load falls on both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from _common import setup_django


def setup() -> None:
    setup_django("safehold-bench-vault-")


def per_field(n: int) -> dict[str, float]:
    from safehold.accounts.models import User
    from safehold.vault import keys
    from safehold.vault.fields import EncryptedTextField

    user = User.objects.create_user("fieldbench", "f@example.test", "Long-enough-pass-77", name="x")
    field = User._meta.get_field("name")
    assert isinstance(field, EncryptedTextField)
    value = "Zhang Wei, Room 1201, 99 Example Road"
    keys.data_key(user.data_key)  # unwrapped once per request in real use
    samples: dict[str, list[float]] = {"seal": [], "open": []}
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            sealed = field.seal(user, value)
        samples["seal"].append((time.perf_counter() - start) / n * 1e6)
        start = time.perf_counter()
        for _ in range(n):
            field.open(user, sealed)
        samples["open"].append((time.perf_counter() - start) / n * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


def account_page(n: int) -> dict[str, float]:
    from allauth.account.models import EmailAddress
    from django.test import Client

    from safehold.accounts.models import User
    from safehold.vault.fields import EncryptedField, Sealed

    real_seal, real_open = EncryptedField.seal, EncryptedField.open

    def plain_seal(self, instance, value):  # type: ignore[no-untyped-def]
        return Sealed(self.to_bytes(value))

    def plain_open(self, instance, sealed):  # type: ignore[no-untyped-def]
        return self.from_bytes(bytes(sealed))

    def use(encrypted: bool) -> None:
        EncryptedField.seal = real_seal if encrypted else plain_seal  # type: ignore[method-assign]
        EncryptedField.open = real_open if encrypted else plain_open  # type: ignore[method-assign]

    clients = {}
    for encrypted in (True, False):
        use(encrypted)
        username = "enc" if encrypted else "plain"
        user = User.objects.create_user(
            username,
            f"{username}@example.test",
            "Long-enough-pass-77",
            name="Zhang Wei",
            mailing_address="Room 1201, 99 Example Road\nPudong, Shanghai",
            phone="+8613800138000",
        )
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
        client = Client(
            HTTP_HOST="localhost",
            REMOTE_ADDR="114.114.114.114",
            HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        )
        assert (
            client.post(
                "/accounts/login/", {"login": username, "password": "Long-enough-pass-77"}
            ).status_code
            == 302
        )
        clients[encrypted] = client
    times: dict[bool, list[float]] = {True: [], False: []}
    for i in range(n + 20):
        for encrypted in (True, False) if i % 2 else (False, True):
            use(encrypted)
            start = time.perf_counter()
            response = clients[encrypted].get("/account/")
            elapsed = (time.perf_counter() - start) * 1000
            assert response.status_code == 200
            if i >= 20:  # warm-up
                times[encrypted].append(elapsed)
    use(True)
    return {"encrypted": statistics.median(times[True]), "plain": statistics.median(times[False])}


def rotation(n: int) -> dict[str, float]:
    import uuid

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from safehold.vault import keys
    from safehold.vault.keystore import get_keystore

    store = get_keystore()
    version = keys.active_kek_version()
    kek = keys.kek(version)
    rows = []
    for _ in range(n):
        key_id = uuid.uuid4().hex
        rows.append(
            (
                key_id,
                version,
                keys._seal(
                    kek, AESGCM.generate_key(bit_length=256), keys._data_key_context(key_id)
                ),
                "2026-01-01",
            )
        )
    with store.transaction():
        store._connection().executemany(
            "INSERT INTO safehold_vault_data_key (id, kek_version, wrapped, created_at) VALUES (?, ?, ?, ?)",
            rows,
        )
    live = sum(live for live, _ in store.count_by_version().values())
    start = time.perf_counter()
    result = keys.rotate(batch_size=1000)
    elapsed = time.perf_counter() - start
    assert result.rewrapped == live, (result.rewrapped, live)
    return {
        "keys": float(result.rewrapped),
        "seconds": elapsed,
        "per_second": result.rewrapped / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fields", type=int, default=20000)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--keys", type=int, default=50000)
    args = parser.parse_args()
    setup()
    fields = per_field(args.fields)
    page = account_page(args.pages)
    rotate = rotation(args.keys)
    print(f"python {sys.version.split()[0]}, cpus {os.cpu_count()}")
    print("| measurement | median | target |")
    print("| --- | ---: | --- |")
    print(f"| seal one field (write) | {fields['seal']:.2f} µs | < 10 µs |")
    print(f"| open one field (read) | {fields['open']:.2f} µs | < 10 µs |")
    ratio = page["encrypted"] / page["plain"]
    print(
        f"| account page, cipher replaced by pass-through (baseline) | {page['plain']:.2f} ms | |"
    )
    print(
        f"| account page, encrypted | {page['encrypted']:.2f} ms ({(ratio - 1) * 100:+.1f}%) | < +10% |"
    )
    print(
        f"| key rotation | {rotate['per_second']:,.0f} data keys/s ({rotate['keys']:,.0f} in {rotate['seconds']:.2f} s) | >= 20,000/s |"
    )


if __name__ == "__main__":
    main()
