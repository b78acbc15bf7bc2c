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
# Line breaks other than LF and CRLF: a lone CR (YAML 1.1 and 1.2), NEL, LS and PS (YAML 1.1,
# and so go-yaml v2, which kubectl reads manifests with). Each is one character, as LF is.
# Found with character scans (:func:`has_odd_breaks`); the pattern, a class beyond Latin-1
# that costs a third of a millisecond to compile, only where a text has them.
_ODD_BREAK = "\r(?!\n)|[\x85\u2028\u2029]"
# What makes a text scanner unsure of a span: odd line breaks, a byte order mark (kubectl drops
# one that starts a document), and any line at the column of the mapping's keys that is not a
# plain simple key, a block sequence entry, a comment, a marker or a directive (a quoted or
# complex key, an anchor, a tag, a merge key, a flow collection, a tab: a "kind" the scanner
# would not see, or a "kind:" line inside a multi-line flow collection or quoted scalar).
_KEY_LINE = r"[A-Za-z0-9_][\w.\-/]*:(?:[ ]|\r?\n|$)|-(?:[ ]|\r?\n|$)|[ ]|#|\r?\n|---|\.\.\.|%|$"
_UNSURE: dict[int, re.Pattern[str]] = {}
_CONTINUED = re.compile(r"(?:[ \t]*(?:#[^\n]*)?\r?\n)*([ \t]*)[^ \t\r\n#]")


class Span(NamedTuple):
    start: int
    end: int


def odd_characters(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` holds a byte order mark or a line break other than LF and
    CRLF (:data:`_ODD_BREAK`), found with character scans."""
    return text.find("\ufeff", start, end) >= 0 or has_odd_breaks(text, start, end)


def _unsure(column: int) -> re.Pattern[str]:
    """A line (after its line feed) at ``column`` that is not what :data:`_KEY_LINE` allows;
    a literal prefix, so that the search runs at the speed of a character scan."""
    found = _UNSURE.get(column)
    if found is None:
        key = _KEY_LINE if column == 0 else _KEY_LINE.replace("|-(?:[ ]|\\r?\\n|$)", "")
        found = _UNSURE[column] = re.compile(rf"\n[ ]{{{column}}}(?!{key})")
    return found


def normalise_breaks(text: str) -> str:
    """``text`` with every line break other than LF and CRLF (see :data:`_ODD_BREAK`) turned
    into LF: the same length, so positions hold in both texts, and the same meaning for
    kubectl's reader, to which each of them is a line break. ``text`` itself when it has none."""
    if not has_odd_breaks(text):
        return text
    return re.sub(_ODD_BREAK, "\n", text)


def has_odd_breaks(text: str, start: int = 0, end: int | None = None) -> bool:
    """Whether ``text[start:end]`` holds a line break that :func:`normalise_breaks` changes."""
    end = len(text) if end is None else end
    if any(text.find(c, start, end) >= 0 for c in "\x85\u2028\u2029"):
        return True
    return text.count("\r", start, end) != text.count("\r\n", start, end)  # a lone CR


_BREAK = "\r\n?|[\n\x85\u2028\u2029]"  # compiled where a text has odd breaks


def line_break_at(text: str, pos: int) -> str:
    """The line break ending the line that holds ``pos`` (else the one before it): LF for LF
    and CRLF (whose carriage return a splice keeps), else the odd break itself."""
    breaks = re.compile(_BREAK)
    found = breaks.search(text, pos)
    if found is None:
        found = next(breaks.finditer(text[max(0, pos - 4096) : pos][::-1]), None)
    if found is None or found.group() in ("\n", "\r\n"):
        return "\n"
    return found.group()


def plain_layout(text: str, span: Span, column: int = 0, first: int | None = None) -> bool:
    """Whether a text scanner may trust the lines at ``column`` of ``span`` (the keys of a
    block mapping there): LF or CRLF line breaks only, no byte order mark, every line at that
    column a plain simple key, a comment, a marker or a directive (or, at column 0, a block
    sequence entry), and nothing less indented. ``first`` is where the mapping's first key
    starts (after an item's ``- ``); by default, the span's first content line, which must
    start at ``column``."""
    start = first if first is not None else span.start
    if odd_characters(text, start, span.end):
        return False
    unsure = _unsure(column)
    if start == 0 and unsure.match("\n" + text[: _line_end(text, 0, span.end)]) is not None:
        return False  # the text's first line, which no line feed precedes
    if unsure.search(text, max(start - 1, 0), span.end) is not None:
        return False
    if first is not None:
        return True
    pos = span.start
    while pos < span.end:
        line_end = _line_end(text, pos, span.end)
        line = text[pos:line_end]
        if line.startswith(("---", "%")) or _NOISE_LINE.fullmatch(line):
            pos = line_end
            continue
        return len(line) - len(line.lstrip(" \t")) == column
    return True


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
    """A simple scalar's value (plain or quoted letters, digits and ``_.-/``), else None."""
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] in "\"'" and raw[-1] == raw[0]:
        raw = raw[1:-1]
    elif not raw or not raw[0].isalnum():
        return None
    bare = raw.replace("_", "").replace(".", "").replace("-", "").replace("/", "")
    return raw if bare.isascii() and (bare.isalnum() or not bare) and raw else None


def _top_key(text: str, span: Span, key: str, prefixes: tuple[str, ...]) -> str | None:
    """The value of ``key`` on a line starting with one of ``prefixes``, if exactly one such
    line exists in the span."""
    found: list[int] = []
    for prefix in prefixes:
        needle = f"{prefix}{key}:"
        if text.startswith(needle, span.start):
            found.append(span.start + len(needle))
        pos = text.find("\n" + needle, span.start, span.end)
        while pos >= 0:
            found.append(pos + 1 + len(needle))
            pos = text.find("\n" + needle, pos + 1, span.end)
    if len(found) != 1:
        return None
    start = found[0]
    if start < span.end and text[start] not in " \t\r\n":
        return None
    eol = text.find("\n", start, span.end)
    if eol >= 0:
        following = _CONTINUED.match(text, eol + 1, span.end)
        if following is not None and len(following.group(1)) > len(prefixes[0]):
            return None  # the next line may continue the value (a multi-line plain scalar)
    line = text[start : span.end if eol < 0 else eol].rstrip("\r")
    comment = line.find(" #")
    return _value(line if comment < 0 else line[:comment])


def sniff_document(text: str, span: Span) -> tuple[str | None, str] | None:
    """(apiVersion, kind) of a block-mapping document, or None if unsure."""
    first_eol = text.find("\n", span.start, span.end)
    first = text[span.start : span.end if first_eol < 0 else first_eol]
    if first.startswith("---") and first[3:].strip() and not first[3:].strip().startswith("#"):
        return None  # content on the marker line: not plain block style
    if not plain_layout(text, span):
        return None
    kind = _top_key(text, span, "kind", ("",))
    if kind is None:
        return None
    return _top_key(text, span, "apiVersion", ("",)), kind


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


# What a line's scan (:func:`_line_layout`) ends with.
_ONE_LINE, _SPANS_LINES, _BLOCK_SCALAR = "one line", "spans lines", "block scalar"
_BLANK = " \t"


def _quoted_end(line: str, i: int) -> int | None:
    """Where the quoted scalar starting at ``line[i]`` ends (after its closing quote), or
    None when it does not end on this line. Double quotes take backslash escapes, single
    quotes ``''`` (YAML 1.2 7.3.1, 7.3.2)."""
    quote, j = line[i], i + 1
    while j < len(line):
        char = line[j]
        if quote == '"' and char == "\\":
            j += 2
            continue
        if char == quote:
            if quote == "'" and line.startswith("'", j + 1):
                j += 2
                continue
            return j + 1
        j += 1
    return None


def _flow_end(line: str, i: int) -> int | None:
    """Where the flow collection opening at ``line[i]`` closes (after its bracket), or None
    when it does not close on this line, or when the line cannot be told (a comment inside,
    a quote that may or may not start a scalar): the caller is then unsure as well."""
    depth, j, node = 0, i, True  # node: a node may start here (quotes are quoting there only)
    while j < len(line):
        char = line[j]
        if char in _BLANK:
            j += 1
            continue
        if char in "[{":
            depth, j, node = depth + 1, j + 1, True
        elif char in "]}":
            depth, j, node = depth - 1, j + 1, False
            if depth == 0:
                return j
        elif char == "," or (char == ":" and (not node or j + 1 == len(line) or line[j + 1] in " \t,[]{}")):
            j, node = j + 1, True  # between entries, or after a key: a node may start
        elif char in "\"'" and node:
            end = _quoted_end(line, j)
            if end is None:
                return None
            j, node = end, False
        elif char == "#" or char in "\"'":
            return None  # a comment ends the line with brackets open; a quote mid-scalar: unsure
        else:  # a plain scalar: up to a flow indicator or ": "
            while j < len(line) and line[j] not in ",[]{}" and not line.startswith((": ", ":\t"), j):
                if line[j] in "\"'#":
                    return None
                j += 1
            node = False
    return None


def _line_layout(line: str) -> tuple[str, int]:
    """What the block-context line ``line`` (no line break) holds that a line-by-line text
    scanner must know: ``(_ONE_LINE, 0)`` when every quoted scalar and flow collection on it
    ends on it (plain scalars, comments and keys are never a concern); ``(_SPANS_LINES, 0)``
    when one goes on to the next line, or the line cannot be told (explicit keys, tabs where
    indentation goes); ``(_BLOCK_SCALAR, column)`` when a block scalar starts (``|``, ``>``),
    whose lines are those indented more than ``column`` (the key or ``-`` that holds it)."""
    stripped = line.lstrip(" ")
    i = len(line) - len(stripped)
    if not stripped.lstrip(_BLANK) or stripped.lstrip(_BLANK).startswith("#"):
        return _ONE_LINE, 0  # blank, or a comment
    if stripped.startswith("\t"):
        return _SPANS_LINES, 0
    parent = i
    while i < len(line):
        char = line[i]
        if char in _BLANK:
            i += 1
        elif char == "#":
            return _ONE_LINE, 0
        elif char == "-" and (i + 1 == len(line) or line[i + 1] in _BLANK):
            parent, i = i, i + 1  # a block sequence entry; its node follows
        elif char in "?:" and (i + 1 == len(line) or line[i + 1] in _BLANK):
            return _SPANS_LINES, 0  # explicit keys: not for a line scanner
        elif char in "&!":  # an anchor or a tag before the node
            while i < len(line) and line[i] not in _BLANK:
                i += 1
        elif char in "|>":
            return _BLOCK_SCALAR, parent
        else:
            start = i
            if char in "\"'":
                end = _quoted_end(line, i)
            elif char in "[{":
                end = _flow_end(line, i)
            else:  # a plain scalar, or a plain key: up to ": " or " #"
                found = (line.find(token, i) for token in (": ", ":\t", " #", "\t#"))
                end = min((k for k in found if k >= 0), default=len(line))
                if end == len(line) or line[end] != ":":
                    # A plain value or comment ("key:" at the end included): a plain scalar
                    # may go on, plainly, on lines indented more than its key.
                    return _ONE_LINE, 0
            if end is None:
                return _SPANS_LINES, 0
            rest = line[end:].lstrip(_BLANK)
            if rest.startswith(":") and (len(rest) == 1 or rest[1] in _BLANK):
                parent, i = start, len(line) - len(rest) + 1  # it was a key; its value follows
            elif not rest or rest.startswith("#"):
                return _ONE_LINE, 0
            else:
                return _SPANS_LINES, 0  # more after a node: not plain block style
    return _ONE_LINE, 0


# The shapes most lines have, as patterns (a fast path before :func:`_line_layout`, which
# says the same of them): a double- or single-quoted scalar, a plain key (no colon in it),
# a plain scalar in a flow collection (no colon, quote or indicator in it), a flow collection
# without nesting whose quotes start its entries, and a block-style line whose nodes all end
# on it: entries, a key, then one of those or a plain scalar (whose quotes are text; no ": "
# in it, which would make it a key), and a comment.
_DQ = r'"(?:[^"\\\n]|\\.)*"'
_SQ = r"'(?:[^'\n]|'')*'"
_PLAIN_KEY = r"[^\s\"'\[\]{}#&*!|>%@`?:,-][^:\n\"'\[\]{}#]*"
_FLOW_PLAIN = r"[^\s\"'\[\]{},#:][^\"'\[\]{},#:\n]*"
_FLOW_ENTRY = (
    rf"[ ]*(?:(?:{_DQ}|{_SQ})[ ]*(?::[ ]*(?:{_DQ}|{_SQ}|{_FLOW_PLAIN})?)?"
    rf"|{_FLOW_PLAIN}(?::[ ]+(?:{_DQ}|{_SQ}|{_FLOW_PLAIN})?)?)?[ ]*"
)
_ONE_LINE_NODES = (
    rf"[ ]*(?:-[ ]+)*(?:{_PLAIN_KEY}:(?:[ ]+|$))?"
    rf"(?:{_DQ}|{_SQ}|\[{_FLOW_ENTRY}(?:,{_FLOW_ENTRY})*\]|\{{{_FLOW_ENTRY}(?:,{_FLOW_ENTRY})*\}}"
    r"|(?:[^\s\"'\[\]{}|>#&!%@`?:,-]|[?:-](?![ \t]|$))(?:[^:\n]|:(?![ \t]|$))*)?"
    r"(?:[ \t]+#[^\n]*)?[ \t]*"
)
# A block scalar's header line: entries, a plain key, then | or > with its indicators.
_BLOCK_HEADER = rf"([ ]*(?:-[ ]+)*)(?:({_PLAIN_KEY}):[ ]+)?[|>][-+0-9]*(?:[ \t]+#[^\n]*)?[ \t]*"


def _holder(header: re.Match[str]) -> int:
    """The column of what holds a block scalar (:data:`_BLOCK_HEADER`): its key, else its
    ``-``, else the line's indentation."""
    entries = header.group(1)
    if header.group(2):
        return header.start(2)
    return len(entries.rstrip(" ")) - 1 if "-" in entries else len(entries)


def spans_lines(text: str, start: int, end: int) -> bool:
    """Whether a quoted scalar or a flow collection in the block-style ``text[start:end]``
    goes on past the end of its line (or a line cannot be told: explicit keys, tabs as
    indentation): the lines of such a node are text, whatever they look like (a ``- `` at an
    item's column, a ``kind:``), so a scanner that reads lines must leave the span to the
    parser. Block scalars' lines are passed over, as are plain scalars' (which cannot hold
    a line less indented than their key, where items and keys start)."""
    # Only lines that may start such a node are looked at: those with a quote, a bracket or a
    # block scalar indicator, or an explicit key or a tab where the line's content starts.
    candidate = re.compile(r"[\"'\[{|>]|\n[ ]*[?:\t]")
    one_line, block_header = re.compile(_ONE_LINE_NODES), re.compile(_BLOCK_HEADER)
    pos = start
    while pos < end:
        found = candidate.search(text, pos, end)
        if found is None:
            return False
        line_start = (
            text.rfind("\n", start, found.start() + 1) + 1
            if text[found.start()] != "\n"
            else found.start() + 1
        )
        line_start = max(line_start, start)
        line_end = _line_end(text, line_start, end)
        line = text[line_start:line_end].rstrip("\r\n")
        pos = line_end
        if one_line.fullmatch(line):
            continue
        header = block_header.fullmatch(line)
        layout, column = (_BLOCK_SCALAR, _holder(header)) if header is not None else _line_layout(line)
        if layout == _SPANS_LINES:
            return True
        if layout == _BLOCK_SCALAR:  # its lines: up to one with content at ``column`` or less
            after = re.compile(rf"\n(?![ ]{{{column + 1}}})[ ]*[^ \r\n]").search(text, max(pos - 1, 0), end)
            pos = end if after is None else after.start() + 1
    return False


def split_items(text: str, span: Span, indent: int = 0) -> list[Item] | None:
    """The items of the ``items:`` block sequence at column ``indent`` of a document.

    ``[]`` when there is no ``items`` key or it is an empty flow sequence; None when the
    layout is not plain block style (the caller must parse), which includes a quoted scalar
    or a flow collection over several lines anywhere up to the items' end (:func:`spans_lines`):
    its lines may look like items.
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
    if spans_lines(text, span.start, region_end):
        return None
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
    line_end = _line_end(text, item.span.start, item.span.end)
    first = item.span.start + c
    if first < line_end and not re.match(_KEY_LINE, text[first:line_end]):
        return None
    if not plain_layout(text, item.span, c, line_end if first < line_end else first):
        return None
    prefixes = (" " * c, " " * d + "-" + " " * gap)
    kind = _top_key(text, item.span, "kind", prefixes)
    if kind is None:
        return None
    return _top_key(text, item.span, "apiVersion", prefixes), kind


def top_level_keys(text: str, span: Span) -> dict[str, Span] | None:
    """Spans of each top-level key of a block mapping document (key line to next key line);
    None when unsure (no key found, one found twice, or a quoted scalar or flow collection
    over lines, whose lines may look like keys: :func:`spans_lines`)."""
    if spans_lines(text, span.start, span.end):
        return None
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


class JsonItem(NamedTuple):
    span: Span  # the item's JSON object, "{" to "}"
    api_version: str | None
    kind: str | None


def starts_json(text: str, span: Span) -> bool:
    """Whether a document's content starts with ``{`` (JSON, or YAML in flow style)."""
    head = _JSON_HEAD.match(text, span.start, span.end)
    return head is not None and text.startswith("{", head.end(), span.end)


def json_items(text: str, span: Span) -> tuple[str | None, str | None, list[JsonItem]] | None:
    """(apiVersion, kind, items) of a document written in JSON (``kubectl get -o json``): each
    item's span and its apiVersion and kind, decoded one at a time by the json module and
    dropped, so a List of any size costs the memory of one item. None when the document is
    not a JSON object with an ``items`` array (the caller parses)."""
    import json

    decoder = json.JSONDecoder()
    ws = re.compile(r"[ \t\r\n]*")
    pos = _JSON_HEAD.match(text, span.start, span.end).end()  # type: ignore[union-attr]
    if pos >= span.end or text[pos] != "{":
        return None
    top: dict[str, object] = {}
    items: list[JsonItem] | None = None
    pos += 1
    try:
        while True:
            pos = ws.match(text, pos).end()  # type: ignore[union-attr]
            if text[pos] == "}" and not top and items is None:
                break
            if text[pos] != '"':
                return None
            key, pos = json.decoder.scanstring(text, pos + 1)
            pos = ws.match(text, pos).end()  # type: ignore[union-attr]
            if text[pos] != ":" or key in top or (key == "items" and items is not None):
                return None
            pos = ws.match(text, pos + 1).end()  # type: ignore[union-attr]
            if key == "items" and text[pos] == "[":
                items = []
                pos = ws.match(text, pos + 1).end()  # type: ignore[union-attr]
                while text[pos] != "]":
                    start = pos
                    value, pos = decoder.raw_decode(text, pos)
                    if not isinstance(value, dict):
                        return None
                    api, kind = value.get("apiVersion"), value.get("kind")
                    items.append(
                        JsonItem(
                            Span(start, pos),
                            api if isinstance(api, str) else None,
                            kind if isinstance(kind, str) else None,
                        )
                    )
                    pos = ws.match(text, pos).end()  # type: ignore[union-attr]
                    if text[pos] == ",":
                        pos = ws.match(text, pos + 1).end()  # type: ignore[union-attr]
                    elif text[pos] != "]":
                        return None
                pos += 1
                top[key] = None
            else:
                top[key], pos = decoder.raw_decode(text, pos)
            pos = ws.match(text, pos).end()  # type: ignore[union-attr]
            if text[pos] == ",":
                pos += 1
                continue
            if text[pos] != "}":
                return None
            break
        rest = text[pos + 1 : span.end]
    except (ValueError, IndexError, RecursionError):
        return None
    if items is None or not re.fullmatch(_NOISE_TAIL, rest):
        return None
    api, kind = top.get("apiVersion"), top.get("kind")
    return (api if isinstance(api, str) else None, kind if isinstance(kind, str) else None, items)


_JSON_HEAD = re.compile(r"(?:---[ \t]*(?:#[^\n]*)?\r?\n)?(?:[ \t]*(?:#[^\n]*)?\r?\n)*[ \t]*")
_NOISE_TAIL = r"(?:[ \t]*(?:#[^\n]*)?\r?\n?)*(?:\.\.\.[^\n]*\n?)?[\s]*"  # JSON Lists only: compiled when met
