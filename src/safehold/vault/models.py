"""The base class for every model that holds personal data."""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any, ClassVar

from django.db import models

from safehold.vault.exceptions import UnsafeWrite
from safehold.vault.fields import BlindIndexField, EncryptedField


@cache
def _vault_fields(model: type[models.Model]) -> tuple[list[EncryptedField], list[BlindIndexField]]:
    fields = model._meta.concrete_fields
    return (
        [f for f in fields if isinstance(f, EncryptedField)],
        [f for f in fields if isinstance(f, BlindIndexField)],
    )


class VaultQuerySet(models.QuerySet):
    """Refuses the bulk writes that would bypass sealing: an ``update()`` of a personal
    field (even to an expression, which the field itself never sees), and
    ``bulk_create`` / ``bulk_update`` of rows with personal fields."""

    def _vault_names(self) -> set[str]:
        encrypted, indexes = _vault_fields(self.model)
        names = {f.name for f in encrypted} | {f.name for f in indexes}
        return names | {f.attname for f in encrypted} | {f.attname for f in indexes}

    def update(self, **kwargs: Any) -> int:
        touched = self._vault_names() & set(kwargs)
        if any(kwargs[name] is not None for name in touched):
            raise UnsafeWrite(
                f"{self.model._meta.db_table}: personal fields ({', '.join(sorted(touched))}) "
                "are written with model.save(), never QuerySet.update()"
            )
        return super().update(**kwargs)

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> Any:
        if _vault_fields(self.model)[0]:
            raise UnsafeWrite(
                f"{self.model._meta.db_table}: rows with personal fields are saved one by one"
            )
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Any, fields: Any, *args: Any, **kwargs: Any) -> Any:
        if self._vault_names() & set(fields):
            raise UnsafeWrite(
                f"{self.model._meta.db_table}: personal fields cannot be bulk-updated"
            )
        return super().bulk_update(objs, fields, *args, **kwargs)


class VaultModel(models.Model):
    """A model with encrypted fields, under the data key of the person it belongs to.

    Subclasses implement ``vault_key_id``. Every save that writes any encrypted field
    writes all of them, sealed under a new ``vault_version``, so that no single
    ciphertext can be put back from an older version of the row.
    """

    vault_row = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    vault_version = models.PositiveIntegerField(default=0, editable=False)

    #: The field holding the data key id, if it lives on this model (saved with it).
    vault_key_field: ClassVar[str | None] = None

    objects = models.Manager.from_queryset(VaultQuerySet)()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if args:
            raise TypeError("VaultModel.save() takes keyword arguments only")
        encrypted, indexes = _vault_fields(type(self))
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            update_fields = kwargs["update_fields"] = list(update_fields)
        vault_names = {f.name for f in encrypted} | {f.name for f in indexes}
        if update_fields is not None and not vault_names & set(update_fields):
            super().save(*args, **kwargs)
            return
        for field in encrypted:  # open every value under the current version first
            getattr(self, field.attname)
        deferred = self.get_deferred_fields()
        if update_fields is None and deferred:
            # Django would save only the loaded fields: name them, with every vault field,
            # so that a deferred blind index is recomputed too.
            update_fields = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.attname not in deferred
            ]
        self.vault_key_id(create=True)
        previous = self.vault_version
        self.vault_version = previous + 1
        if update_fields is not None:
            extra = {"vault_version", *vault_names}
            if self.vault_key_field:
                extra.add(self.vault_key_field)
            kwargs["update_fields"] = {*update_fields, *extra}
        try:
            super().save(*args, **kwargs)
        except BaseException:
            self.vault_version = previous
            raise

    def vault_key_id(self, *, create: bool) -> str | None:
        """The id of the data key this row's personal data is under.

        With ``create``, a person without a data key gets one.
        """
        raise NotImplementedError
