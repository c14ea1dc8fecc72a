"""The statement's Markdown to safe HTML, its sections, and readable diffs.

Markdown (python-markdown) passes raw HTML through, so everything it produces goes
through nh3 (the ammonia sanitiser) with a short allow-list: no ``script``, no
event handlers, no ``style``, no images or frames (a page must load nothing from
another host), and links only to http, https and mailto. The editor's HTML never
reaches a page unsanitised.

A text may say ``{{ operator_name }}`` and ``{{ contact_email }}``: they are filled
in from the settings when the text is shown, so the default statement names the
operator even when the settings were changed after it was installed.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterator

import markdown
import nh3
from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote", "pre", "code",
    "ul", "ol", "li", "dl", "dt", "dd", "strong", "em", "b", "i", "a", "abbr",
    "table", "thead", "tbody", "tr", "th", "td", "del", "ins", "sup", "sub",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "th": {"align"},
    "td": {"align"},
    **{f"h{n}": {"id"} for n in range(1, 7)},
}
URL_SCHEMES = {"http", "https", "mailto"}

_PLACEHOLDER = re.compile(r"\{\{\s*(operator_name|contact_email)\s*\}\}")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*(?:\{\s*#([A-Za-z0-9_-]+)\s*\})?\s*$")


def fill_placeholders(text: str) -> str:
    """The text with ``{{ operator_name }}`` and ``{{ contact_email }}`` filled in."""
    values = {
        "operator_name": settings.SAFEHOLD_OPERATOR_NAME,
        "contact_email": settings.SAFEHOLD_CONTACT_EMAIL,
    }
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def sanitise(html: str) -> str:
    """HTML reduced to the allow-list above (scripts, handlers, styles, images removed)."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render_markdown(text: str) -> SafeString:
    """Markdown (placeholders filled in) to sanitised HTML, safe to put on a page."""
    return mark_safe(_render(fill_placeholders(text)))  # noqa: S308  # sanitised by nh3 in _render


@functools.lru_cache(maxsize=32)
def _render(text: str) -> str:
    # Published texts never change, so the few in use are rendered once per process.
    html = markdown.markdown(
        text, extensions=["attr_list", "tables", "sane_lists", "def_list"], output_format="html"
    )
    return sanitise(html)


def section(text: str, section_id: str) -> str | None:
    """The Markdown of the section headed ``... {#section_id}`` (to the next heading of
    the same or a higher level), or None when the text has no such section."""
    lines = text.splitlines()
    start = level = None
    for i, line in enumerate(lines):
        match = _HEADING.match(line)
        if not match:
            continue
        depth = len(match.group(1))
        if start is None:
            if match.group(3) == section_id:
                start, level = i, depth
        elif level is not None and depth <= level:
            return "\n".join(lines[start:i]).strip()
    if start is None:
        return None
    return "\n".join(lines[start:]).strip()


def section_ids(text: str) -> list[str]:
    """The ``{#id}`` of every heading, in order."""
    return [m.group(3) for line in text.splitlines() if (m := _HEADING.match(line)) and m.group(3)]


def heading_titles(text: str) -> dict[str, str]:
    """``{id: heading text}`` for every heading that has an id."""
    titles = {}
    for line in text.splitlines():
        match = _HEADING.match(line)
        if match and match.group(3):
            titles[match.group(3)] = match.group(2)
    return titles


# --- Diffs ---------------------------------------------------------------------------

_WORDS = re.compile(r"\s+|[^\s]+")


def _word_ops(a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    """SequenceMatcher's opcodes, with changes separated only by spaces joined into one
    (so "one year" -> "six months" reads as one change, not two)."""
    ops: list[tuple[str, int, int, int, int]] = []
    for op in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        tag, _i1, i2, _j1, j2 = op
        if (
            len(ops) >= 2
            and tag != "equal"
            and ops[-1][0] == "equal"
            and ops[-2][0] != "equal"
            and not "".join(a[ops[-1][1] : ops[-1][2]]).strip()
        ):
            ops.pop()
            first = ops.pop()
            ops.append(("replace", first[1], i2, first[3], j2))
            continue
        ops.append(op)
    return ops


def _inline(old: str, new: str) -> tuple[str, str]:
    """Word-level marking of one changed line: (old with <del>, new with <ins>)."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    left: list[str] = []
    right: list[str] = []
    for op, i1, i2, j1, j2 in _word_ops(a, b):
        old_part, new_part = escape("".join(a[i1:i2])), escape("".join(b[j1:j2]))
        if op == "equal":
            left.append(old_part)
            right.append(new_part)
        else:
            if old_part:
                left.append(f"<del>{old_part}</del>")
            if new_part:
                right.append(f"<ins>{new_part}</ins>")
    return "".join(left), "".join(right)


def _rows(old: str, new: str, context: int) -> Iterator[tuple[str, str, str]]:
    """(kind, old html, new html) rows: kind is equal, changed, removed, added or gap."""
    a, b = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        yield ("gap", "", "")
        for op, i1, i2, j1, j2 in group:
            if op == "equal":
                for line in a[i1:i2]:
                    yield ("equal", escape(line), escape(line))
            elif op == "replace":
                olds, news = a[i1:i2], b[j1:j2]
                for k in range(max(len(olds), len(news))):
                    o = olds[k] if k < len(olds) else None
                    n = news[k] if k < len(news) else None
                    if o is not None and n is not None:
                        left, right = _inline(o, n)
                        yield ("changed", left, right)
                    elif o is not None:
                        yield ("removed", f"<del>{escape(o)}</del>", "")
                    else:
                        yield ("added", "", f"<ins>{escape(n or '')}</ins>")
            elif op == "delete":
                for line in a[i1:i2]:
                    yield ("removed", f"<del>{escape(line)}</del>", "")
            else:
                for line in b[j1:j2]:
                    yield ("added", "", f"<ins>{escape(line)}</ins>")


def diff_rows(old: str, new: str, *, context: int = 2) -> list[tuple[str, SafeString, SafeString]]:
    """A side-by-side diff of two Markdown texts, line by line with changed words marked.

    Every piece of text is escaped before ``<ins>``/``<del>`` are added, so the rows
    are safe to put on a page. The first row of each hunk is a "gap" marker.
    """
    return [
        (kind, mark_safe(left), mark_safe(right))  # noqa: S308  # built from escaped text only
        for kind, left, right in _rows(old, new, context)
    ]
