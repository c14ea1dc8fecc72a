"""How each data category is read for one person.

Profile categories are read through the ``User`` model (the vault opens them). The
record categories (access records, devices, payments) are other apps' data: they are
read through those apps' exporters (``safehold.core.registry.exporters()``), found
by the category's name. A category whose exporter is not installed is *unavailable*:
the gate refuses it rather than release an empty list that looks like "nothing held".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from safehold.core import registry
from safehold.sharing.models import Category
from safehold.vault.fields import is_erased

if TYPE_CHECKING:
    from safehold.accounts.models import User

PROFILE = {
    Category.NAME: "name",
    Category.USERNAME: "username",
    Category.EMAIL: "email",
    Category.MAILING_ADDRESS: "mailing_address",
    Category.PHONE: "phone",
}
#: Row keys tried, in order, for a record's time when a period is applied (a device,
#: with ``first_seen`` and ``last_seen``, is kept if it was in use during the period).
TIME_KEYS = ("time", "occurred_at", "at", "created_at", "when")


def _exporter(category: str) -> registry.Exporter | None:
    for exporter in registry.exporters():
        if exporter.name == category:
            return exporter
    return None


def is_available(category: str) -> bool:
    """Whether this installation holds the category (its exporter is registered)."""
    if category in PROFILE:
        return True
    return category in Category.values and _exporter(category) is not None


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        except ValueError:
            return None
    return None


def _row_time(row: dict[str, Any]) -> date | None:
    for key in TIME_KEYS:
        when = _as_date(row.get(key))
        if when is not None:
            return when
    return None


def _in_period(rows: Iterable[dict[str, Any]], start: date | None, end: date | None) -> list[Any]:
    if start is None and end is None:
        return list(rows)
    kept = []
    for row in rows:
        if "first_seen" in row and "last_seen" in row:  # a device: in use during the period?
            first, last = _as_date(row["first_seen"]), _as_date(row["last_seen"])
            if (
                first is not None
                and last is not None
                and (end is None or first <= end)
                and (start is None or last >= start)
            ):
                kept.append(row)
            continue
        when = _row_time(row)
        if when is None:
            continue  # a record with no time cannot be shown to lie inside the period
        if (start is None or when >= start) and (end is None or when <= end):
            kept.append(row)
    return kept


def read(person: User, category: str, *, start: date | None = None, end: date | None = None) -> Any:
    """The person's data in ``category``: a string for a profile field, a list of
    records for the others (only those dated within ``start``..``end`` when given).

    Raises ``LookupError`` if the category is unavailable.
    """
    if category in PROFILE:
        value = getattr(person, PROFILE[Category(category)])
        return "" if is_erased(value) else str(value or "")
    exporter = _exporter(category)
    if exporter is None:
        raise LookupError(category)
    return _in_period(exporter.rows(person), start, end)
