"""Writing one person's archive: ``data.json``, ``index.html`` and ``schema.json`` in a zip.

Everything streams: each exporter's rows are read once, written to ``data.json`` as
they come and, at the same time, as table rows of the readable page into a spool
file sealed under a throw-away key held only in memory (a zip is written one entry at
a time). The spool is then copied into ``index.html``. Memory stays flat however many
rows there are; the bench (bench/export.py) measures it.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import zipfile
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from safehold.core import registry
from safehold.rights import schema as export_schema
from safehold.rights.sealing import SealingWriter, open_chunks

FORMAT = "safehold-export/1"
_FLUSH_AT = 256 * 1024
_BATCH = 500
_NEW_PRIVATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, UUID | Decimal | Promise):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"an exporter gave a value of type {type(value).__name__}")


_encode = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), default=_json_default, sort_keys=False
).encode


class _Buffered:
    """Collects small text pieces and writes them to a binary stream in large blocks."""

    def __init__(self, out: IO[bytes] | SealingWriter) -> None:
        self._out = out
        self._parts: list[str] = []
        self._size = 0

    def write(self, text: str) -> None:
        self._parts.append(text)
        self._size += len(text)
        if self._size >= _FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        if self._parts:
            self._out.write("".join(self._parts).encode())
            self._parts.clear()
            self._size = 0


def _escape(text: str) -> str:
    # Text between tags: &, < and > are all that need escaping (html.escape also does
    # quotes, for attributes; this runs for every cell of 100,000s of rows).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _text(value: Any) -> str:
    """A value as the readable page shows it, not escaped yet."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    if isinstance(value, dict | list | tuple):
        return _encode(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def _cell(value: Any) -> str:
    return _escape(_text(value))


_STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem}"
    "h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.5rem;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;width:100%;font-size:13px}"
    "th,td{border:1px solid #ddd;padding:.25rem .4rem;text-align:left;vertical-align:top;"
    "word-break:break-word}th{background:#f3f3f3}code{font-size:12px}.help{color:#555}"
)


def _columns(schema: dict[str, Any]) -> list[str]:
    properties = schema.get("properties")
    return list(properties) if isinstance(properties, dict) else []


_SEP = "\x00"


def _write_html_row(
    out: _Buffered, row: dict[str, Any], columns: list[str], known: frozenset[str]
) -> None:
    if columns:
        texts = [_text(row.get(name)) for name in columns]
        if len(row) > len(columns) or not known.issuperset(row):
            # An exporter gave more than its schema says: show it, do not drop it.
            extra = {name: value for name, value in row.items() if name not in known}
            if extra:
                texts.append(_encode(extra))
        joined = _SEP.join(texts)
        if joined.count(_SEP) == len(texts) - 1:  # escaped once per row, not per cell
            cells = _escape(joined).replace(_SEP, "</td><td>")
        else:  # a value holds the separator itself
            cells = "</td><td>".join(_escape(text) for text in texts)
        out.write(f"<tr><td>{cells}</td></tr>\n")
    else:
        items = "".join(f"<dt>{_cell(str(k))}</dt><dd>{_cell(v)}</dd>" for k, v in row.items())
        out.write(f"<tr><td><dl>{items}</dl></td></tr>\n")


def _open_entry(archive: zipfile.ZipFile, name: str) -> IO[bytes]:
    # Sizes are unknown until the end: zip64 headers, so a large export is never refused.
    return archive.open(name, "w", force_zip64=True)


def write_archive(
    out: IO[bytes] | SealingWriter,
    user: Any,
    *,
    generated_at: dt.datetime,
    spool_dir: Path,
    exporters: Iterable[registry.Exporter] | None = None,
) -> dict[str, int]:
    """Write the person's archive (a zip) to ``out``; return the row count per part.

    ``exporters`` defaults to every registered one. The caller has activated the
    language the readable page is written in. A spool file is made in ``spool_dir``
    and removed before returning (it is sealed under a key that only this call holds).
    """
    parts = list(exporters if exporters is not None else registry.exporters())
    counts: dict[str, int] = {}
    spool_key = os.urandom(32)
    spool_path = spool_dir / f".spool-{os.urandom(8).hex()}"
    try:
        # Deflate level 1: most of the size gain for a fraction of the time of level 6.
        with zipfile.ZipFile(
            out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1
        ) as archive:
            with (
                os.fdopen(os.open(spool_path, _NEW_PRIVATE, 0o600), "wb") as spool_file,
                _open_entry(archive, "data.json") as entry,
            ):
                spool = SealingWriter(spool_file, spool_key)
                js = _Buffered(entry)
                page = _Buffered(spool)
                js.write(
                    "{"
                    + f'"format":{_encode(FORMAT)},'
                    + f'"generated_at":{_encode(generated_at.isoformat())},'
                    + f'"operator":{_encode(settings.SAFEHOLD_OPERATOR_NAME)},'
                    + f'"person":{{"user_id":{int(user.pk)}}},'
                    + '"sections":{'
                )
                for number, part in enumerate(parts):
                    columns = _columns(part.schema)
                    known = frozenset(columns)
                    js.write(
                        ("," if number else "")
                        + f"{_encode(part.name)}:"
                        + f'{{"description":{_encode(str(part.description))},"rows":['
                    )
                    page.write(
                        f'<section id="{html.escape(part.name)}">'
                        f"<h2>{html.escape(str(part.description))}</h2>"
                        f'<p class="help"><code>{html.escape(part.name)}</code></p>'
                    )
                    page.write("<table>")
                    if columns:
                        heads = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
                        page.write(f"<thead><tr>{heads}</tr></thead>")
                    page.write("<tbody>\n")
                    count = 0
                    batch: list[dict[str, Any]] = []
                    for row in part.rows(user):
                        batch.append(row)
                        _write_html_row(page, row, columns, known)
                        if len(batch) == _BATCH:
                            # One call of the C encoder per batch; "[...]" less its brackets.
                            js.write(("," if count else "") + _encode(batch)[1:-1])
                            count += len(batch)
                            batch.clear()
                    if batch:
                        js.write(("," if count else "") + _encode(batch)[1:-1])
                        count += len(batch)
                    js.write(f'],"count":{count}}}')
                    if not count:
                        page.write(f"<tr><td>{html.escape(_('Nothing of this kind.'))}</td></tr>")
                    page.write("</tbody></table></section>\n")
                    counts[part.name] = count
                js.write("}}")
                js.flush()
                page.flush()
                spool.close()
            with _open_entry(archive, "index.html") as entry:
                _write_page_head(entry, parts, counts, user, generated_at)
                with spool_path.open("rb") as spool_file:
                    for chunk in open_chunks(spool_file, spool_key):
                        entry.write(chunk)
                entry.write(b"</main></body></html>\n")
            with _open_entry(archive, "schema.json") as entry:
                entry.write(json.dumps(export_schema.build(parts), indent=2).encode())
    finally:
        spool_path.unlink(missing_ok=True)
    return counts


def _write_page_head(
    entry: IO[bytes],
    parts: list[registry.Exporter],
    counts: dict[str, int],
    user: Any,
    generated_at: dt.datetime,
) -> None:
    title = html.escape(
        _("Your data at %(operator)s") % {"operator": settings.SAFEHOLD_OPERATOR_NAME}
    )
    toc = "".join(
        f'<li><a href="#{html.escape(p.name)}">{html.escape(str(p.description))}</a> '
        f"({counts.get(p.name, 0)})</li>"
        for p in parts
    )
    intro = html.escape(
        _(
            "Everything %(operator)s holds about you, as of %(time)s (UTC). The same data, "
            "for computers, is in data.json in this archive; schema.json describes it."
        )
        % {
            "operator": settings.SAFEHOLD_OPERATOR_NAME,
            "time": generated_at.strftime("%Y-%m-%d %H:%M"),
        }
    )
    language = html.escape(translation.get_language() or "en")
    head = (
        f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{_STYLE}</style></head><body><main>"
        f"<h1>{title}</h1><p>{intro}</p>"
        f'<p class="help">{html.escape(_("Account number"))}: {int(user.pk)}</p>'
        f"<nav><h2>{html.escape(_('Contents'))}</h2><ul>{toc}</ul></nav>\n"
    )
    entry.write(head.encode())
