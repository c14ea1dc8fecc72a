"""Encrypted fields: round trips, binding to table/column/row/version, shredding, blind index."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from safehold.accounts.models import SignedInSession, User
from safehold.accounts.services import find_account_by_phone
from safehold.vault import keys
from safehold.vault.exceptions import UnsafeWrite, VaultIntegrityError
from safehold.vault.fields import ERASED, blind_index, is_erased

pytestmark = pytest.mark.django_db


def _raw(table: str, column: str, pk: int) -> bytes | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608  # test-fixed names
        value = cursor.fetchone()[0]
    return None if value is None else bytes(value)


def _write_raw(table: str, column: str, pk: int, value: bytes | None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])  # noqa: S608


def _fresh(user: User) -> User:
    keys.forget_cached_keys()
    return User.objects.get(pk=user.pk)


@pytest.fixture
def person() -> User:
    return User.objects.create_user(
        "mei",
        "mei@example.test",
        "Long-enough-pass-77",
        name="Li Mei",
        mailing_address="8 Garden Lane\nSuzhou",
        phone="+8613912345678",
        password_hint="the lake in spring",
    )


def test_values_round_trip_and_are_not_stored_in_plain_text(person: User) -> None:
    again = _fresh(person)
    assert (again.name, again.mailing_address, again.phone, again.password_hint) == (
        "Li Mei",
        "8 Garden Lane\nSuzhou",
        "+8613912345678",
        "the lake in spring",
    )
    raw = _raw("accounts_user", "name", person.pk)
    assert raw is not None
    assert b"Li Mei" not in raw
    assert raw[0] == 1  # format version
    assert len(raw) == 1 + 12 + 16 + 16  # one padded block: the length says little


def test_each_person_has_their_own_data_key(person: User) -> None:
    other = User.objects.create_user(
        "jun", "jun@example.test", "Long-enough-pass-77", name="Li Mei"
    )
    assert person.data_key
    assert other.data_key
    assert person.data_key != other.data_key
    # Same plaintext, different ciphertext (different key and nonce).
    assert _raw("accounts_user", "name", person.pk) != _raw("accounts_user", "name", other.pk)


def test_a_flipped_byte_is_detected(person: User) -> None:
    raw = bytearray(_raw("accounts_user", "name", person.pk) or b"")
    raw[20] ^= 0x01
    _write_raw("accounts_user", "name", person.pk, bytes(raw))
    with pytest.raises(
        VaultIntegrityError, match=r"accounts_user\.name row .* failed authentication"
    ):
        _ = _fresh(person).name


def test_ciphertexts_swapped_between_people_are_detected(person: User) -> None:
    other = User.objects.create_user(
        "jun", "jun@example.test", "Long-enough-pass-77", name="Wang Jun"
    )
    mine, theirs = _raw("accounts_user", "name", person.pk), _raw("accounts_user", "name", other.pk)
    _write_raw("accounts_user", "name", person.pk, theirs)
    _write_raw("accounts_user", "name", other.pk, mine)
    for who in (person, other):
        with pytest.raises(VaultIntegrityError):
            _ = _fresh(who).name


def test_a_ciphertext_moved_to_another_column_is_detected(person: User) -> None:
    _write_raw(
        "accounts_user", "mailing_address", person.pk, _raw("accounts_user", "name", person.pk)
    )
    again = _fresh(person)
    assert again.name == "Li Mei"
    with pytest.raises(VaultIntegrityError, match="mailing_address"):
        _ = again.mailing_address


def test_a_replayed_old_ciphertext_is_detected(person: User) -> None:
    old_name = _raw("accounts_user", "name", person.pk)
    person.name = "Li Mei-Ling"
    person.save(update_fields=["name"])
    _write_raw("accounts_user", "name", person.pk, old_name)
    with pytest.raises(VaultIntegrityError):
        _ = _fresh(person).name
    # Rolling the row's version back as well breaks every field written since.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_user SET vault_version = vault_version - 1 WHERE id = %s", [person.pk]
        )
    again = _fresh(person)
    assert again.name == "Li Mei"  # the replayed field now opens...
    with pytest.raises(VaultIntegrityError):
        _ = again.phone  # ...but the fields sealed under the newer version do not


def test_saving_one_field_reseals_all_under_the_new_version(person: User) -> None:
    before = _fresh(person).vault_version
    again = _fresh(person)
    again.phone = "+8613900000000"
    again.save(update_fields=["phone"])
    latest = _fresh(person)
    assert latest.vault_version == before + 1
    assert (latest.name, latest.phone) == ("Li Mei", "+8613900000000")
    # A save of plain fields only does not touch the vault.
    latest.save(update_fields=["last_login"])
    assert _fresh(person).vault_version == before + 1


def test_writing_or_filtering_around_the_model_is_refused(person: User) -> None:
    with pytest.raises(UnsafeWrite), transaction.atomic():
        User.objects.filter(pk=person.pk).update(name="Sneaky")
    with pytest.raises(UnsafeWrite), transaction.atomic():
        list(User.objects.filter(name="Li Mei"))
    with pytest.raises(UnsafeWrite), transaction.atomic():
        list(User.objects.filter(phone__startswith="+86"))
    assert _fresh(person).name == "Li Mei"


def test_shredding_erases_every_value_at_once_with_a_clear_marker(person: User) -> None:
    session = SignedInSession.objects.create(
        user=person,
        session_key="k" * 32,
        browser="Firefox 128",
        os="Linux",
        ip_address="203.0.113.9",
        place="CN",
        last_seen_at=person.date_joined,
    )
    assert keys.shred_data_key(person.data_key)
    again = _fresh(person)
    for value in (again.name, again.mailing_address, again.phone, again.password_hint):
        assert value is ERASED
        assert is_erased(value)
        assert str(value) == "[erased]"
    stored_session = SignedInSession.objects.get(pk=session.pk)
    assert is_erased(stored_session.ip_address)
    assert is_erased(stored_session.browser)
    assert again.username == "mei"  # the sign-in identifier is not personal-field data
    assert not keys.shred_data_key(person.data_key)  # once is enough


def test_shredded_person_stays_erased_when_an_older_copy_of_the_row_is_put_back(
    person: User,
) -> None:
    copy = {c: _raw("accounts_user", c, person.pk) for c in ("name", "mailing_address", "phone")}
    keys.shred_data_key(person.data_key)
    for column, value in copy.items():  # "restore" the old row from a backup
        _write_raw("accounts_user", column, person.pk, value)
    again = _fresh(person)
    assert is_erased(again.name)
    assert is_erased(again.phone)
    assert is_erased(again.mailing_address)


def test_erased_person_shows_a_marker_on_their_page_not_an_error(client, person: User) -> None:  # type: ignore[no-untyped-def]
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=person, email="mei@example.test", primary=True, verified=True)
    client.force_login(person)
    keys.shred_data_key(person.data_key)
    page = client.get("/account/")
    assert page.status_code == 200
    assert "[erased]" in page.content.decode()


def test_phone_is_found_through_the_blind_index_only(person: User) -> None:
    User.objects.create_user(
        "jun", "jun@example.test", "Long-enough-pass-77", phone="+8613800000001"
    )
    assert find_account_by_phone("+8613912345678") == person
    assert find_account_by_phone("+8613912345679") is None
    stored = User.objects.values_list("phone_index", flat=True).get(pk=person.pk)
    assert stored == blind_index(User, "phone", "+8613912345678")
    assert len(stored) == 64
    # Keyed per column: the same text indexed for another column would differ, and the
    # index is not a plain hash of the number.
    import hashlib

    assert stored != hashlib.sha256(b"+8613912345678").hexdigest()


def test_blind_index_follows_changes_and_erasure(person: User) -> None:
    person.phone = "+8613700000000"
    person.save()
    assert find_account_by_phone("+8613912345678") is None
    assert find_account_by_phone("+8613700000000") == person
    person.phone = ""
    person.save()
    assert User.objects.values_list("phone_index", flat=True).get(pk=person.pk) is None


def test_deferred_encrypted_field_loads_on_access(person: User) -> None:
    keys.forget_cached_keys()
    partial = User.objects.only("username").get(pk=person.pk)
    assert partial.name == "Li Mei"


def test_mfa_secrets_are_sealed() -> None:
    from safehold.accounts.mfa import MFAAdapter

    adapter = MFAAdapter()
    sealed = adapter.encrypt("JBSWY3DPEHPK3PXP")
    assert "JBSWY3DPEHPK3PXP" not in sealed
    assert adapter.decrypt(sealed) == "JBSWY3DPEHPK3PXP"
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(VaultIntegrityError):
        adapter.decrypt(tampered)


def test_no_bulk_path_writes_plain_text(person: User) -> None:
    from django.db.models import Value

    for attempt in (
        lambda: User.objects.filter(pk=person.pk).update(name=Value("Plain Text")),
        lambda: User.objects.filter(pk=person.pk).update(phone_index="0" * 64),
        lambda: User.objects.bulk_create([User(username="bulk", name="Bulk Person")]),
        lambda: User.objects.bulk_update([person], ["name"]),
    ):
        with pytest.raises(UnsafeWrite), transaction.atomic():
            attempt()
    raw = _raw("accounts_user", "name", person.pk)
    assert raw is not None
    assert raw[0] == 1
    assert _fresh(person).name == "Li Mei"
    # Plain columns can still be bulk-updated.
    assert User.objects.filter(pk=person.pk).update(is_active=True) == 1


def test_saving_a_partly_loaded_row_keeps_the_blind_index_right(person: User) -> None:
    partial = User.objects.only("id", "username").get(pk=person.pk)
    partial.phone = "+8613700000001"
    partial.save()
    assert find_account_by_phone("+8613700000001") == person
    assert find_account_by_phone("+8613912345678") is None
    assert _fresh(person).name == "Li Mei"


def test_a_deferred_field_read_after_another_save_still_opens(person: User) -> None:
    partial = User.objects.only("id", "username").get(pk=person.pk)
    other = User.objects.get(pk=person.pk)
    other.name = "Li Mei II"
    other.save()
    assert partial.name == "Li Mei II"


def test_save_takes_keyword_arguments_only(person: User) -> None:
    with pytest.raises(TypeError):
        person.save(False, False, None, ["name"])
    person.name = "Generator Saved"
    person.save(update_fields=(f for f in ["name"]))
    assert _fresh(person).name == "Generator Saved"
