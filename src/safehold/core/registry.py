"""Where feature apps plug into shared pages and duties, without the floor importing them.

Each feature app registers, in its ``AppConfig.ready()``:

- links in the account centre's navigation (``account_link``) and in every page's
  footer (``footer_link``);
- sections of the account centre's overview page (``centre_section``): a template
  and a function that gives its context for a signed-in person;
- the person's data it holds, for "download my data" (``exporter``) and for
  erasure (``eraser``).

The registries are module-level lists filled once at start-up; order is by the
``order`` each entry gives, then by name, so pages are stable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise

if TYPE_CHECKING:
    from django.http import HttpRequest

    from safehold.accounts.models import User


@dataclass(frozen=True)
class Link:
    url_name: str
    label: str | Promise
    order: int = 100


@dataclass(frozen=True)
class CentreSection:
    name: str
    template: str
    context: Callable[[HttpRequest], dict[str, Any]]
    order: int = 100


@dataclass(frozen=True)
class Exporter:
    """One part of a person's export.

    ``rows(user)`` yields JSON-serialisable dicts, one per record, and should
    stream (``.iterator()``) rather than load everything: the export's memory
    must stay flat. ``description`` documents the part in the export's schema;
    ``schema`` is the JSON Schema of one row.
    """

    name: str
    description: str
    rows: Callable[[User], Iterable[dict[str, Any]]]
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    order: int = 100


@dataclass(frozen=True)
class Eraser:
    """What an app does when a person is erased: remove or minimise its rows.

    ``erase(user)`` runs inside the erasure's transaction, before the person's
    data key is shredded; it returns a count of rows removed or minimised, for
    the audit event. Rows kept by law (payments) are minimised, not removed.
    """

    name: str
    erase: Callable[[User], int]
    order: int = 100


_account_links: list[Link] = []
_footer_links: list[Link] = []
_centre_sections: list[CentreSection] = []
_exporters: list[Exporter] = []
_erasers: list[Eraser] = []


def _add(registry: list[Any], entry: Any) -> None:
    # ready() can run twice in tests; a name is registered once.
    key = getattr(entry, "url_name", None) or entry.name
    registry[:] = [e for e in registry if (getattr(e, "url_name", None) or e.name) != key]
    registry.append(entry)
    registry.sort(key=lambda e: (e.order, getattr(e, "url_name", None) or e.name))


def account_link(url_name: str, label: str | Promise, *, order: int = 100) -> None:
    _add(_account_links, Link(url_name, label, order))


def footer_link(url_name: str, label: str | Promise, *, order: int = 100) -> None:
    _add(_footer_links, Link(url_name, label, order))


def centre_section(
    name: str,
    template: str,
    context: Callable[[HttpRequest], dict[str, Any]],
    *,
    order: int = 100,
) -> None:
    _add(_centre_sections, CentreSection(name, template, context, order))


def exporter(
    name: str,
    description: str,
    rows: Callable[[User], Iterable[dict[str, Any]]],
    *,
    schema: dict[str, Any] | None = None,
    order: int = 100,
) -> None:
    _add(_exporters, Exporter(name, description, rows, schema or {"type": "object"}, order))


def eraser(name: str, erase: Callable[[User], int], *, order: int = 100) -> None:
    _add(_erasers, Eraser(name, erase, order))


def account_links() -> Iterator[Link]:
    return iter(tuple(_account_links))


def footer_links() -> Iterator[Link]:
    return iter(tuple(_footer_links))


def centre_sections() -> Iterator[CentreSection]:
    return iter(tuple(_centre_sections))


def exporters() -> Iterator[Exporter]:
    return iter(tuple(_exporters))


def erasers() -> Iterator[Eraser]:
    return iter(tuple(_erasers))
