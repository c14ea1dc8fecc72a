"""The activity app's live promise checks (registered in ``ActivityConfig.ready()``)."""

from __future__ import annotations

import re

from django.db import connection
from django.utils.translation import gettext as _

from safehold.activity.models import AccessRecord, Device, Payment
from safehold.core.promises import Result, Status
from safehold.vault.fields import FORMAT_V1, EncryptedField, is_erased

#: What a payment row may hold, and nothing else: a new column must be reviewed here.
PAYMENT_COLUMNS = frozenset(
    {
        "id",
        "vault_row",
        "vault_version",
        "user_id",
        "created_at",
        "amount_minor",
        "currency",
        "status",
        "processor",
        "token",
        "brand",
        "last4",
        "decline_code",
        "form_key",
        "minimised_at",
    }
)
_DIGIT_RUN = re.compile(r"\d[\d \-]{10,}\d")
_LAST4 = re.compile(r"^\d{4}$")


def _looks_like_card(text: str) -> bool:
    from safehold.activity.payments import luhn_valid

    for match in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 12 <= len(digits) <= 19 and luhn_valid(digits):
            return True
    return False


def check_no_card_number() -> Result:
    """Payments hold only a token, brand and last four digits: never a card number.

    Checks the table's columns against the reviewed list, every plain text column of
    every row, and every readable sealed value (the last four digits are four
    digits; no token or brand holds a card-like number).
    """
    with connection.cursor() as cursor:
        columns = {
            c.name
            for c in connection.introspection.get_table_description(cursor, Payment._meta.db_table)
        }
    extra = columns - PAYMENT_COLUMNS
    if extra:
        return Result(
            Status.BROKEN,
            _("Payments have unreviewed columns: %(columns)s")
            % {"columns": ", ".join(sorted(extra))},
        )
    checked = 0
    rows = Payment.objects.select_related("user").iterator(chunk_size=500)
    for payment in rows:
        plain = " ".join((payment.currency, payment.processor, payment.decline_code))
        sealed = []
        if payment.user_id is not None:
            sealed = [v for v in (payment.token, payment.brand, payment.last4) if v]
        if any(is_erased(v) for v in sealed):
            sealed = []  # the person was erased: nothing readable is left
        if payment.last4 and not is_erased(payment.last4) and not _LAST4.match(payment.last4):
            return Result(
                Status.BROKEN, _("Payment %(id)s keeps more than four digits.") % {"id": payment.pk}
            )
        if _looks_like_card(plain) or any(_looks_like_card(str(v)) for v in sealed):
            return Result(
                Status.BROKEN, _("Payment %(id)s holds a card number.") % {"id": payment.pk}
            )
        checked += 1
    return Result(
        Status.HOLDS,
        _("%(count)d payments checked: only tokens, brands and last four digits.")
        % {"count": checked},
    )


def _sealed_columns(model: type) -> list[str]:
    return [
        str(f.column)
        for f in model._meta.concrete_fields  # type: ignore[attr-defined]  # a model class
        if isinstance(f, EncryptedField)
    ]


def check_device_data_encrypted() -> Result:
    """Browser, OS, IP address and place of devices and access records are sealed.

    The model fields must be encrypted fields, and every stored value in those
    columns must be a vault ciphertext (format byte, nonce, whole blocks, tag).
    """
    device_fields = {"browser", "os", "ip_address", "place", "name"}
    missing = device_fields - set(_sealed_columns(Device))
    if missing:
        return Result(
            Status.BROKEN,
            _("Device fields not encrypted: %(fields)s") % {"fields": ", ".join(sorted(missing))},
        )
    if "details" not in _sealed_columns(AccessRecord):
        return Result(Status.BROKEN, _("Access record details are not encrypted."))
    checked = 0
    quote = connection.ops.quote_name
    for model in (Device, AccessRecord):
        table = quote(model._meta.db_table)
        for column in _sealed_columns(model):
            sql = f"SELECT {quote(column)} FROM {table} WHERE {quote(column)} IS NOT NULL"  # noqa: S608  # names from the model, quoted
            with connection.cursor() as cursor:
                cursor.execute(sql)
                while batch := cursor.fetchmany(1000):
                    for (value,) in batch:
                        raw = bytes(value)
                        body = len(raw) - 1 - 12 - 16
                        if raw[:1] != FORMAT_V1 or body < 16 or body % 16:
                            return Result(
                                Status.BROKEN,
                                _("A value in %(table)s.%(column)s is not encrypted.")
                                % {"table": model._meta.db_table, "column": column},
                            )
                        checked += 1
    return Result(
        Status.HOLDS,
        _("%(count)d stored device values checked: all encrypted.") % {"count": checked},
    )
