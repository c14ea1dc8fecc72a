"""The vault's promise checks (registered by the policy app, which owns the promise map)."""

from __future__ import annotations

from django.apps import apps
from django.db import connection
from django.utils.translation import gettext_lazy as _

from safehold.core.promises import Result, Status
from safehold.vault.fields import FORMAT_V1, EncryptedField

#: Rows sampled per encrypted column: the newest ones, where a regression would show.
SAMPLE_ROWS = 200
_MIN_SEALED = 1 + 12 + 16 + 16  # format byte, nonce, one padded block, tag


def is_sealed(value: bytes | memoryview | str | None) -> bool:
    """Whether a stored value has the vault's sealed format (``0x01 | nonce | ct+tag``)."""
    if value is None:
        return True
    if isinstance(value, str):  # a text column: plaintext by definition
        return False
    data = bytes(value)
    return len(data) >= _MIN_SEALED and data[:1] == FORMAT_V1 and (len(data) - 1 - 12) % 16 == 0


def check_no_plaintext() -> Result:
    """Sample the newest rows of every encrypted column, straight from the database:
    every non-empty value must be in the sealed format, none in plain text."""
    columns = 0
    sampled = 0
    quote = connection.ops.quote_name
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedField)]
        if not fields:
            continue
        table = quote(model._meta.db_table)
        pk = quote(str(model._meta.pk.column))
        with connection.cursor() as cursor:
            for field in fields:
                columns += 1
                column = quote(str(field.column))
                cursor.execute(
                    f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL "  # noqa: S608  # names from the models
                    f"ORDER BY {pk} DESC LIMIT %s",
                    [SAMPLE_ROWS],
                )
                for (value,) in cursor.fetchall():
                    sampled += 1
                    if not is_sealed(value):
                        return Result(
                            Status.BROKEN,
                            f"{model._meta.db_table}.{field.column} holds a value "
                            "that is not sealed",
                        )
    return Result(
        Status.HOLDS,
        _("%(values)d stored values in %(columns)d encrypted columns sampled: all sealed.")
        % {"values": sampled, "columns": columns},
    )
