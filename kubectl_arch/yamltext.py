"""Textual layout of YAML streams: where documents and list items start and end, and what
kind of object each one is, found without parsing.

Real manifests are mostly objects pin never touches (CRDs, ConfigMaps, RBAC); parsing them
all would cost seconds on large installs. This module finds document boundaries (``---``,
``...`` and directives at column 0, which the YAML grammar reserves), the items of a
top-level ``items:`` block sequence, and top-level ``apiVersion``/``kind`` lines. Whenever
the layout is anything but plain block style, the functions answer ``None`` and the caller
parses instead: they may be unsure, never wrong.
"""

from __future__ import annotations

import itertools
import re
from typing import NamedTuple

_MARKER = re.compile(r"^(?:---|\.\.\.)(?=[ \t\r\n]|$)|^%", re.M)
_NOISE_LINE = re.compile(r"[ \t]*(?:#[^\n]*)?\r?\n?")
_SCALAR = re.compile(r"""[A-Za-z0-9][A-Za-z0-9_.\-/]*|"[A-Za-z0-9_.\-/]*"|'[A-Za-z0-9_.\-/]*'""")


class Span(NamedTuple):
    start: int
    end: int


def split_documents(text: str) -> list[Span]:
    """Spans covering ``text`` exactly, one per document (plus leading/trailing trivia)."""
    bounds = [0]
    directives: int | None = None
    for m in _MARKER.finditer(text):
        token = m.group()
        if token == "%":
            if directives is None:
                directives = m.start()
        elif token == "---":
            bounds.append(m.start() if directives is None else directives)
            directives = None
        else:  # "...": the document ends after this line
            eol = text.find("\n", m.end())
            bounds.append(len(text) if eol < 0 else eol + 1)
            directives = None
    bounds.append(len(text))
    spans = []
    for start, end in itertools.pairwise(bounds):
        if end > start:
            spans.append(Span(start, end))
    return spans


def has_content(text: str, span: Span) -> bool:
    """Whether a span holds a YAML node, not just comments, blank lines and markers."""
    pos, end = span.start, span.end
    while pos < end:
        eol = text.find("\n", pos, end)
        line_end = end if eol < 0 else eol + 1
        line = text[pos:line_end]
        if line.startswith(("---", "...")) and (len(line) == 3 or line[3] in " \t\r\n"):
            line = line[3:]
        elif line.startswith("%"):
            line = ""
        if not _NOISE_LINE.fullmatch(line):
            return True
        pos = line_end
    return False


def _value(raw: str) -> str | None:
    raw = raw.strip()
    if not _SCALAR.fullmatch(raw):
        return None
    return raw[1:-1] if raw[0] in "\"'" else raw


def _top_key(text: str, span: Span, key: str, prefix: str) -> str | None:
    """The plain value of a top-level ``key`` at a given line prefix, if exactly one exists."""
    pattern = re.compile(rf"^{prefix}{re.escape(key)}:[ \t]*([^\n#]*?)[ \t]*(?:#[^\n]*)?\r?$", re.M)
    found = pattern.findall(text, span.start, span.end)
    if len(found) != 1:
        return None
    return _value(found[0])


def sniff_document(text: str, span: Span) -> tuple[str | None, str] | None:
    """(apiVersion, kind) of a block-mapping document, or None if unsure."""
    first_eol = text.find("\n", span.start, span.end)
    first = text[span.start : span.end if first_eol < 0 else first_eol]
    if first.startswith("---") and first[3:].strip() and not first[3:].strip().startswith("#"):
        return None  # content on the marker line: not plain block style
    kind = _top_key(text, span, "kind", "")
    if kind is None:
        return None
    return _top_key(text, span, "apiVersion", ""), kind


def _line_end(text: str, pos: int, end: int) -> int:
    eol = text.find("\n", pos, end)
    return end if eol < 0 else eol + 1


class Item(NamedTuple):
    span: Span
    dash: int  # column of the item's "-"
    column: int  # column of the item mapping's keys


def _item_column(text: str, span: Span, dash: int) -> int | None:
    line_end = _line_end(text, span.start, span.end)
    rest = text[span.start + dash + 1 : line_end]
    stripped = rest.lstrip(" ")
    if stripped and stripped[0] not in "#\r\n":
        return dash + 1 + len(rest) - len(stripped)
    pos = line_end
    while pos < span.end:
        line_end = _line_end(text, pos, span.end)
        line = text[pos:line_end]
        if not _NOISE_LINE.fullmatch(line):
            return len(line) - len(line.lstrip(" "))
        pos = line_end
    return None


def split_items(text: str, span: Span, indent: int = 0) -> list[Item] | None:
    """The items of the ``items:`` block sequence at column ``indent`` of a document.

    ``[]`` when there is no ``items`` key or it is an empty flow sequence; None when the
    layout is not plain block style (the caller must parse).
    """
    pad = " " * indent
    key = re.compile(rf"^{pad}items:[ \t]*(?P<rest>[^\n#]*?)[ \t]*(?:#[^\n]*)?\r?$", re.M)
    found = list(key.finditer(text, span.start, span.end))
    if not found:
        return []
    if len(found) > 1:
        return None
    rest = found[0].group("rest")
    if rest == "[]":
        return []
    if rest:
        return None
    pos = _line_end(text, found[0].end(), span.end)
    dash = None
    while pos < span.end:
        line_end = _line_end(text, pos, span.end)
        line = text[pos:line_end]
        if not _NOISE_LINE.fullmatch(line):
            m = re.match(r"( *)-(?=[ \t\r\n]|$)", line)
            if not m or len(m.group(1)) < indent:
                return None if line.startswith(" ") and not m else []
            dash = len(m.group(1))
            break
        pos = line_end
    if dash is None:
        return []
    start_re = re.compile(rf"^ {{{dash}}}-(?=[ \t\r\n]|$)", re.M)
    stop_re = re.compile(rf"^(?! {{{dash}}}-(?:[ \t\r\n]|$))(?! {{{dash + 1}}})(?=[ ]*[^\s#])", re.M)
    stop = stop_re.search(text, pos, span.end)
    region_end = stop.start() if stop else span.end
    starts = [m.start() for m in start_re.finditer(text, pos, region_end)]
    items = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else region_end
        item_span = Span(start, end)
        column = _item_column(text, item_span, dash)
        if column is None:
            return None
        items.append(Item(item_span, dash, column))
    return items


def sniff_item(text: str, item: Item) -> tuple[str | None, str] | None:
    """(apiVersion, kind) of a list item mapping laid out in block style, or None."""
    c, d = item.column, item.dash
    gap = c - d - 1
    if gap < 1:
        return None
    prefix = rf"(?: {{{c}}}| {{{d}}}-[ ]{{{gap}}})"
    kind = _top_key(text, item.span, "kind", prefix)
    if kind is None:
        return None
    return _top_key(text, item.span, "apiVersion", prefix), kind


def top_level_keys(text: str, span: Span) -> dict[str, Span] | None:
    """Spans of each top-level key of a block mapping document (key line to next key line)."""
    key = re.compile(r"""^([A-Za-z_][\w.\-/]*|"[^"\n]*"|'[^'\n]*')[ \t]*:(?=[ \t\r\n]|$)""", re.M)
    found = [(m.group(1).strip("\"'"), m.start()) for m in key.finditer(text, span.start, span.end)]
    if not found:
        return None
    sections: dict[str, Span] = {}
    for i, (name, start) in enumerate(found):
        if name in sections:
            return None
        end = found[i + 1][1] if i + 1 < len(found) else span.end
        sections[name] = Span(start, end)
    return sections
