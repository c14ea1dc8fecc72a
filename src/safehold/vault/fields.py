"""Encrypted model fields: AES-256-GCM under the row owner's data key, bound to the row.

Each value is stored as ``0x01 | nonce (12) | ciphertext+tag``; the plaintext is
padded to a multiple of 16 bytes so the stored length says little about the value.
The authenticated data names the table, the column, the row (its ``vault_row`` UUID),
the row's ``vault_version`` and the data key id. So a ciphertext altered, copied into
another row or column, or put back from an older version of the row fails to open
with ``VaultIntegrityError``; nothing is ever decrypted silently wrong.

Values are opened lazily on first access and sealed again in ``pre_save``. Writing
around the model (``QuerySet.update``, ``bulk_create``) or filtering on an encrypted
column raises ``UnsafeWrite``: search with a ``BlindIndexField`` instead.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core import validators
from django.db import models

from safehold.vault import keys
from safehold.vault.exceptions import KeyShredded, UnsafeWrite, VaultIntegrityError

if TYPE_CHECKING:
    from safehold.vault.models import VaultModel

FORMAT_V1 = b"\x01"
_NONCE = 12
_BLOCK = 16


class Erased(str):
    """What an encrypted field reads as once its data key has been shredded."""

    __slots__ = ()

    def __new__(cls) -> Erased:
        return super().__new__(cls, "[erased]")

    def __repr__(self) -> str:
        return "ERASED"


ERASED = Erased()


def is_erased(value: object) -> bool:
    return isinstance(value, Erased)


class Sealed(bytes):
    """A ciphertext as read from the database, not opened yet."""


def _pad(data: bytes) -> bytes:
    # ISO/IEC 7816-4: a 0x80 byte, then zeros up to the block size.
    padded = data + b"\x80"
    return padded + b"\x00" * (-len(padded) % _BLOCK)


def _unpad(data: bytes) -> bytes:
    end = data.rstrip(b"\x00")
    if not end.endswith(b"\x80"):
        raise VaultIntegrityError("bad padding in an opened value")
    return end[:-1]


class EncryptedField(models.BinaryField):
    """Base class; subclasses turn values into bytes and back."""

    description = "Encrypted personal data"

    def __init__(self, *args: Any, max_length: int | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        self.text_max_length = max_length
        super().__init__(*args, **kwargs)
        if max_length is not None:
            self.validators.append(validators.MaxLengthValidator(max_length))

    def _check_str_default_value(self) -> list[Any]:
        return []  # a str default is right here: it is the plaintext, sealed on save

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.text_max_length is not None:
            kwargs["max_length"] = self.text_max_length
        return name, path, args, kwargs

    # --- values ----------------------------------------------------------------------

    def to_bytes(self, value: Any) -> bytes:
        raise NotImplementedError

    def from_bytes(self, data: bytes) -> Any:
        raise NotImplementedError

    # --- the binding ------------------------------------------------------------------

    def associated_data(self, instance: VaultModel, key_id: str) -> bytes:
        return "|".join(
            (
                "safehold/v1",
                self.model._meta.db_table,
                str(self.column),
                str(instance.vault_row),
                str(instance.vault_version),
                key_id,
            )
        ).encode()

    def seal(self, instance: VaultModel, value: Any) -> Sealed:
        key_id = instance.vault_key_id(create=True)
        assert key_id  # noqa: S101  # create=True always gives one
        aead = keys.data_key(key_id)
        nonce = os.urandom(_NONCE)
        sealed = aead.encrypt(
            nonce, _pad(self.to_bytes(value)), self.associated_data(instance, key_id)
        )
        return Sealed(FORMAT_V1 + nonce + sealed)

    def open(self, instance: VaultModel, sealed: bytes) -> Any:
        """The plaintext of ``sealed``, ``ERASED`` if the key was shredded.

        Raises ``VaultIntegrityError`` if the ciphertext does not belong here.
        """
        where = f"{self.model._meta.db_table}.{self.column} row {instance.vault_row}"
        key_id = instance.vault_key_id(create=False)
        if not key_id:
            raise VaultIntegrityError(f"{where} holds a ciphertext but the row has no data key")
        try:
            aead: AESGCM = keys.data_key(key_id)
        except KeyShredded:
            return ERASED
        if sealed[:1] != FORMAT_V1 or len(sealed) < 1 + _NONCE + 16:
            raise VaultIntegrityError(f"{where}: not a vault ciphertext")
        try:
            plaintext = aead.decrypt(
                sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :], self.associated_data(instance, key_id)
            )
        except InvalidTag:
            raise VaultIntegrityError(
                f"{where} failed authentication: "
                "altered, moved from another row or column, or replayed"
            ) from None
        return self.from_bytes(_unpad(plaintext))

    # --- Django plumbing --------------------------------------------------------------------

    def contribute_to_class(
        self, cls: type[models.Model], name: str, private_only: bool = False
    ) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        setattr(cls, self.attname, _EncryptedAttribute(self))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Sealed | None:
        return None if value is None else Sealed(bytes(value))

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = getattr(model_instance, self.attname)
        if value is None or is_erased(value):
            return None
        return self.seal(model_instance, value)  # type: ignore[arg-type]  # only on VaultModel

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None or isinstance(value, Sealed):
            return super().get_db_prep_value(value, connection, prepared)
        raise UnsafeWrite(
            f"{self.model._meta.db_table}.{self.column} is encrypted: write it with model.save(), "
            "and search it through its blind index"
        )

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            raise UnsafeWrite(
                f"{self.model._meta.db_table}.{self.column} is encrypted and cannot be filtered "
                f"with __{lookup_name}; search it through its blind index"
            )
        return super().get_lookup(lookup_name)

    def value_to_string(self, obj: models.Model) -> str:
        raise UnsafeWrite("encrypted fields are not serialised; export through the rights service")

    def to_python(self, value: Any) -> Any:
        return value

    def formfield(self, **kwargs: Any) -> Any:
        return None  # personal data is edited through the app's own forms and services


class EncryptedTextField(EncryptedField):
    description = "Encrypted text"
    # What django-stubs reports for the attribute: the plaintext, not the stored bytes.
    _pyi_private_set_type: str
    _pyi_private_get_type: str  # type: ignore[assignment]  # plaintext, not BinaryField's bytes

    def to_bytes(self, value: Any) -> bytes:
        return str(value).encode()

    def from_bytes(self, data: bytes) -> str:
        return data.decode()


class EncryptedJSONField(EncryptedField):
    description = "Encrypted JSON"
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def to_bytes(self, value: Any) -> bytes:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def from_bytes(self, data: bytes) -> Any:
        return json.loads(data)


class EncryptedIPAddressField(EncryptedField):
    description = "Encrypted IP address"
    _pyi_private_set_type: str | None
    _pyi_private_get_type: str | None  # type: ignore[assignment]  # plaintext, not bytes

    def to_bytes(self, value: Any) -> bytes:
        try:
            return ipaddress.ip_address(str(value)).compressed.encode()
        except ValueError:
            raise UnsafeWrite(
                f"{self.model._meta.db_table}.{self.column}: not an IP address"
            ) from None

    def from_bytes(self, data: bytes) -> str:
        return data.decode()


class _EncryptedAttribute:
    """Holds a row's value: the ciphertext until first read, then the plaintext."""

    def __init__(self, field: EncryptedField) -> None:
        self.field = field

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        attname = self.field.attname
        if attname not in instance.__dict__:  # deferred by .only() / .defer()
            # Reload the binding with the value: the row may have been saved since.
            binding = ["vault_row", "vault_version"]
            key_field = getattr(instance, "vault_key_field", None)
            if key_field:
                binding.append(key_field)
            instance.refresh_from_db(fields=[attname, *binding])
        value = instance.__dict__.get(attname)
        if isinstance(value, Sealed):
            value = self.field.open(instance, value)
            instance.__dict__[attname] = value
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


# --- blind indexes -----------------------------------------------------------------------------


def _column_key(table: str, column: str) -> bytes:
    return hmac.new(
        keys.blind_index_key(), f"column:{table}.{column}".encode(), hashlib.sha256
    ).digest()


class BlindIndexField(models.CharField):
    """HMAC-SHA-256 of another (encrypted) field's value, for exact-match lookups.

    Keyed per column with a secret from the key store, so equal values in different
    columns give different indexes and nobody without the key can test a guess.
    Look up with ``blind_index(Model, "phone", value)``.
    """

    def __init__(
        self,
        *args: Any,
        source: str = "",
        normalise: Callable[[str], str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.source = source
        self.normalise = normalise
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        return name, path, args, kwargs

    def compute(self, value: Any) -> str | None:
        if value is None or value == "" or is_erased(value):
            return None
        text = self.normalise(str(value)) if self.normalise else str(value)
        source_field = self.model._meta.get_field(self.source)
        key = _column_key(self.model._meta.db_table, str(source_field.column))  # type: ignore[union-attr]  # a concrete field
        return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = self.compute(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


def blind_index(model: type[models.Model], source: str, value: Any) -> str | None:
    """The index value to filter on for ``model.source == value``."""
    for field in model._meta.concrete_fields:
        if isinstance(field, BlindIndexField) and field.source == source:
            return field.compute(value)
    raise LookupError(f"{model._meta.label}.{source} has no blind index")
