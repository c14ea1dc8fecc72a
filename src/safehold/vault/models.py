"""The base class for every model that holds personal data."""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any, ClassVar

from django.db import models

from safehold.vault.fields import BlindIndexField, EncryptedField


@cache
def _vault_fields(model: type[models.Model]) -> tuple[list[EncryptedField], list[BlindIndexField]]:
    fields = model._meta.concrete_fields
    return (
        [f for f in fields if isinstance(f, EncryptedField)],
        [f for f in fields if isinstance(f, BlindIndexField)],
    )


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

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        encrypted, indexes = _vault_fields(type(self))
        update_fields = kwargs.get("update_fields")
        vault_names = {f.name for f in encrypted} | {f.name for f in indexes}
        if update_fields is not None and not vault_names & set(update_fields):
            super().save(*args, **kwargs)
            return
        for field in encrypted:  # open every value under the current version first
            getattr(self, field.attname)
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
