"""A strict, fast reader for the block-style YAML that Kubernetes manifests are written in.

It produces the same node tree, with the same positions, as :mod:`.fullyaml` (the full
reader, over ruamel.yaml's parser) for the subset it accepts: block mappings and sequences,
one-line plain and quoted scalars, plain scalars folded over lines, one-line flow
collections, literal and folded block scalars, comments. Anything else (anchors, aliases,
tags, multi-line flow collections and quoted scalars, complex keys, directives, tabs as
indentation) raises :class:`Unsupported`, and the caller reads the document with the full
reader, which also reports real syntax errors. It never guesses: it reads a document exactly
or not at all.

The value of a block scalar (``|``, ``>``) is not computed (it is :data:`.node.UNREAD`);
using it raises :class:`NeedFullParse`, so the caller can read that document fully instead.
"""

from __future__ import annotations

from typing import Any

from .node import MAP_TAG, PLAIN_TAG, SEQ_TAG, STR_TAG, UNREAD, NeedFullParse, Node
from .yamltext import odd_characters

__all__ = ["PLAIN_TAG", "NeedFullParse", "Unsupported", "parse"]

_BLANK, _COMMENT, _CONTENT = 0, 1, 2
_ESCAPES = {
    "0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f",
    "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85",
    "_": "\xa0", "L": "\u2028", "P": "\u2029",
}  # fmt: skip
_HEX = {"x": 2, "u": 4, "U": 8}


class Unsupported(Exception):
    """The text is outside the subset this reader accepts (not necessarily invalid)."""


class _Reader:
    def __init__(self, text: str, start: int, end: int) -> None:
        self.text = text
        self.end = end
        # Per line: start, end (without line break), indent, kind.
        lines: list[tuple[int, int, int, int]] = []
        pos = start
        seen_marker = False
        if odd_characters(text, start, end):
            raise Unsupported("byte order mark or a line break other than LF and CRLF")
        parts = text[start:end].split("\n")
        if parts[-1] == "":
            parts.pop()  # the text ends with a line break
        for body in parts:
            stop = pos + len(body)
            if body.endswith("\r"):
                body = body[:-1]
            line_end = pos + len(body)
            stripped = body.lstrip(" ")
            indent = len(body) - len(stripped)
            if not stripped:
                kind = _BLANK
            elif stripped[0] == "#":
                kind = _COMMENT
            elif stripped[0] == "\t" or "\r" in body:
                rest = stripped.lstrip(" \t")
                if rest and rest[0] != "#":
                    raise Unsupported("tab indentation or stray carriage return")
                kind = _BLANK if not rest else _COMMENT
            else:
                kind = _CONTENT
                if indent == 0 and body[0] in "-.%":
                    if body.startswith(("---", "...")) and (len(body) == 3 or body[3] in " \t"):
                        tail = body[3:].strip()
                        if body[0] == "." or seen_marker or lines_have_content(lines):
                            raise Unsupported("document marker inside the span")
                        if tail and not tail.startswith("#"):
                            raise Unsupported("content on the document marker line")
                        seen_marker = True
                        kind = _COMMENT
                    elif body[0] == "%":
                        raise Unsupported("directive")
            lines.append((pos, line_end, indent, kind))
            pos = stop + 1
        self.lines = lines

    # -- helpers ---------------------------------------------------------------------------
    def next_content(self, i: int) -> int | None:
        lines = self.lines
        while i < len(lines):
            if lines[i][3] == _CONTENT:
                return i
            i += 1
        return None

    def is_dash(self, pos: int, line_end: int) -> bool:
        return self.text[pos] == "-" and (pos + 1 == line_end or self.text[pos + 1] == " ")

    def scalar(self, tag: str, value: Any, start: int, end: int, style: str | None) -> Node:
        return Node("scalar", tag, value, start, end, style)

    def line_tail_ok(self, pos: int, line_end: int) -> None:
        """Only spaces and a comment may follow a node on its line."""
        rest = self.text[pos:line_end]
        stripped = rest.lstrip(" ")
        if stripped and not (stripped[0] == "#" and len(stripped) < len(rest)):
            raise Unsupported("unexpected text after a value")

    # -- documents -------------------------------------------------------------------------
    def document(self) -> Node | None:
        i = self.next_content(0)
        if i is None:
            return None
        node, i = self.block(i, self.lines[i][2])
        if i is not None and self.next_content(i) is not None:
            raise Unsupported("content after the root node")
        return node

    def block(self, i: int, indent: int) -> tuple[Node, int | None]:
        start, line_end = self.lines[i][0], self.lines[i][1]
        if self.is_dash(start + indent, line_end):
            return self.sequence(i, indent)
        return self.mapping(i, indent, start + indent)

    def mapping(self, i: int, indent: int, pos: int) -> tuple[Node, int | None]:
        entries: list[tuple[Node, Node]] = []
        lines = self.lines
        while True:
            line_end = lines[i][1]
            key, after = self.key(pos, line_end)
            value_pos = after
            while value_pos < line_end and self.text[value_pos] == " ":
                value_pos += 1
            nxt: int | None
            if value_pos == line_end or self.text[value_pos] == "#":
                j = self.next_content(i + 1)
                child = lines[j] if j is not None else None
                if child is not None and child[2] > indent:
                    value, nxt = self.block(j, child[2])  # type: ignore[arg-type]
                elif child is not None and child[2] == indent and self.is_dash(child[0] + indent, child[1]):
                    value, nxt = self.sequence(j, indent)  # type: ignore[arg-type]
                else:
                    # Like ruamel.yaml, an empty value is placed where the next token starts.
                    at = child[0] + child[2] if child is not None else self.end
                    value = Node("scalar", PLAIN_TAG, "", at, at)
                    nxt = i + 1
            else:
                value, nxt = self.inline(i, value_pos, line_end, indent)
            entries.append((key, value))
            j = self.next_content(nxt) if nxt is not None else None
            if j is None:
                return self.collection("mapping", MAP_TAG, entries, entries[0][0], value), None
            if lines[j][2] > indent:
                raise Unsupported("unexpected indentation (multi-line scalar?)")
            if lines[j][2] < indent or self.is_dash(lines[j][0] + indent, lines[j][1]):
                return self.collection("mapping", MAP_TAG, entries, entries[0][0], value), j
            i, pos = j, lines[j][0] + indent

    def sequence(self, i: int, indent: int) -> tuple[Node, int | None]:
        items: list[Node] = []
        lines = self.lines
        first_dash = lines[i][0] + indent
        while True:
            start, line_end = lines[i][0], lines[i][1]
            dash = start + indent
            pos = dash + 1
            while pos < line_end and self.text[pos] == " ":
                pos += 1
            nxt: int | None
            if pos == line_end or self.text[pos] == "#":
                j = self.next_content(i + 1)
                if j is not None and lines[j][2] > indent:
                    item, nxt = self.block(j, lines[j][2])
                else:
                    item, nxt = self.scalar(PLAIN_TAG, "", dash + 1, dash + 1, None), i + 1
            elif self.is_dash(pos, line_end):
                raise Unsupported("nested sequence on one line")
            elif self.key_colon(pos, line_end) >= 0:
                item, nxt = self.mapping(i, pos - start, pos)
            else:
                item, nxt = self.inline(i, pos, line_end, indent)
            items.append(item)
            j = self.next_content(nxt) if nxt is not None else None
            if j is None or lines[j][2] != indent or not self.is_dash(lines[j][0] + indent, lines[j][1]):
                if j is not None and lines[j][2] > indent:
                    raise Unsupported("unexpected indentation in a sequence")
                node = self.collection("sequence", SEQ_TAG, items, items[0], item)
                node.start = first_dash
                return node, j
            i = j

    def collection(self, kind: str, tag: str, value: Any, first: Node, last: Node) -> Node:
        return Node(kind, tag, value, first.start, last.end)

    # -- keys and inline values ------------------------------------------------------------
    def key_colon(self, pos: int, line_end: int) -> int:
        """Index of the ``:`` ending a mapping key that starts at ``pos``, or -1."""
        text = self.text
        first = text[pos]
        if first in "\"'":
            _, _, after = self.quoted(pos, line_end, build=False)
            probe = after
            while probe < line_end and text[probe] == " ":
                probe += 1
            if probe < line_end and text[probe] == ":" and (probe + 1 == line_end or text[probe + 1] == " "):
                return probe
            return -1
        if first in "[]{},&*!|>%@`#":
            return -1
        if first in "?:-" and (pos + 1 == line_end or text[pos + 1] == " "):
            return -1
        k = text.find(":", pos, line_end)
        while k >= 0:
            if k + 1 == line_end or text[k + 1] == " ":
                if text.find(" #", pos, k) >= 0:
                    return -1
                return k
            k = text.find(":", k + 1, line_end)
        return -1

    def key(self, pos: int, line_end: int) -> tuple[Node, int]:
        colon = self.key_colon(pos, line_end)
        if colon < 0:
            raise Unsupported("not a mapping entry")
        text = self.text
        if text[pos] in "\"'":
            node, _, end = self.quoted(pos, line_end)
            if text[end:colon].strip():
                raise Unsupported("text between key and colon")
        else:
            raw = text[pos:colon].rstrip(" ")
            if "\t" in raw or ": " in raw:
                raise Unsupported("unusual key")
            node = self.scalar(PLAIN_TAG, raw, pos, pos + len(raw), None)
        return node, colon + 1

    def inline(self, i: int, pos: int, line_end: int, indent: int) -> tuple[Node, int | None]:
        text = self.text
        first = text[pos]
        if first in "&*!%@`":
            raise Unsupported("anchor, alias, tag or reserved indicator")
        if first in "?-:" and (pos + 1 == line_end or text[pos + 1] == " "):
            raise Unsupported("indicator in value position")
        if first in "|>":
            return self.block_scalar(i, pos, line_end, indent)
        if first in "[{":
            node, end = self.flow(pos, line_end)
            self.line_tail_ok(end, line_end)
            return node, i + 1
        if first in "\"'":
            node, _, end = self.quoted(pos, line_end)
            self.line_tail_ok(end, line_end)
            return node, i + 1
        if first in ",]}#":
            raise Unsupported("indicator at start of a plain scalar")
        comment = text.find(" #", pos, line_end)
        stop = comment if comment >= 0 else line_end
        value = text[pos:stop].rstrip(" ")
        if ": " in value or value.endswith(":") or "\t" in value:
            raise Unsupported("mapping indicator inside a plain scalar")
        end, end_line = pos + len(value), i
        if comment < 0:
            value, end, end_line = self.continued(value, end, i, indent)
        return Node("scalar", PLAIN_TAG, value, pos, end), end_line + 1

    def continued(self, value: str, end: int, i: int, indent: int) -> tuple[str, int, int]:
        """A plain scalar's continuation lines (indented past ``indent``), folded: one line
        break becomes a space, each blank line a line break."""
        lines, text = self.lines, self.text
        j, blanks = i + 1, 0
        while j < len(lines):
            start, line_end, line_indent, kind = lines[j]
            if kind == _BLANK:
                blanks += 1
            elif kind == _CONTENT and line_indent > indent:
                part = text[start + line_indent : line_end]
                comment = part.find(" #")
                if comment >= 0:
                    part = part[:comment]
                part = part.rstrip(" ")
                if ": " in part or part.endswith(":") or "\t" in part or part.startswith("#"):
                    raise Unsupported("unusual plain scalar continuation")
                value += "\n" * blanks if blanks else " "
                value += part
                end, i, blanks = start + line_indent + len(part), j, 0
                if comment >= 0:
                    break  # a comment ends the scalar
            else:
                break
            j += 1
        return value, end, i

    def quoted(self, pos: int, line_end: int, build: bool = True) -> tuple[Any, str, int]:
        text = self.text
        quote = text[pos]
        if quote == "'":
            k = pos + 1
            while True:
                j = text.find("'", k, line_end)
                if j < 0:
                    raise Unsupported("multi-line quoted scalar")
                if j + 1 < line_end and text[j + 1] == "'":
                    k = j + 2
                    continue
                break
            value = text[pos + 1 : j].replace("''", "'")
        else:
            j = pos + 1
            while True:
                j = text.find('"', j, line_end)
                if j < 0:
                    raise Unsupported("multi-line quoted scalar")
                backslashes = 0
                while text[j - 1 - backslashes] == "\\":
                    backslashes += 1
                if backslashes % 2:
                    j += 1
                    continue
                break
            value = _unescape(text[pos + 1 : j])
        if not build:
            return None, value, j + 1
        return self.scalar(STR_TAG, value, pos, j + 1, quote), value, j + 1

    def block_scalar(self, i: int, pos: int, line_end: int, indent: int) -> tuple[Node, int | None]:
        text = self.text
        k = pos + 1
        while k < line_end and text[k] in "+-123456789":
            k += 1
        header = text[pos + 1 : k]
        if len(header) > 2 or header.count("+") + header.count("-") > 1:
            raise Unsupported("block scalar header")
        self.line_tail_ok(k, line_end)
        lines = self.lines
        j = i + 1
        while j < len(lines):
            _, _, line_indent, kind = lines[j]
            if kind != _BLANK and line_indent <= indent:
                break
            j += 1
        # Like ruamel.yaml, the scalar ends where the next token's line starts (trailing
        # blank lines belong to it), or at the end of the text.
        if j < len(lines):
            end = lines[j][0]
        elif lines[-1][3] == _BLANK and j - 1 > i and not self.text.endswith("\n", 0, self.end):
            end = lines[-1][0]  # a final blank line without a line break is not part of the scalar
        else:
            end = self.end
        node = Node("scalar", STR_TAG, UNREAD, pos, end, text[pos])
        return node, j if j < len(lines) else None

    # -- flow collections ------------------------------------------------------------------
    def flow(self, pos: int, line_end: int) -> tuple[Node, int]:
        text = self.text
        opener = text[pos]
        closer = "]" if opener == "[" else "}"
        k = self.skip(pos + 1, line_end)
        items: list[Any] = []
        while True:
            if k >= line_end:
                raise Unsupported("multi-line flow collection")
            if text[k] == closer:
                break
            if opener == "[":
                item, k = self.flow_node(k, line_end, "]")
                k = self.skip(k, line_end)
                if k < line_end and text[k] == ":":
                    raise Unsupported("single-pair mapping in a flow sequence")
                items.append(item)
            else:
                key, k = self.flow_node(k, line_end, "}")
                if key.kind != "scalar":
                    raise Unsupported("collection as a key")
                k = self.skip(k, line_end)
                if k >= line_end or text[k] != ":":
                    raise Unsupported("flow mapping entry without a value")
                k = self.skip(k + 1, line_end)
                if k >= line_end or text[k] in ",}":
                    raise Unsupported("flow mapping entry with an empty value")
                value, k = self.flow_node(k, line_end, "}")
                items.append((key, value))
            k = self.skip(k, line_end)
            if k < line_end and text[k] == ",":
                k = self.skip(k + 1, line_end)
            elif k < line_end and text[k] != closer:
                raise Unsupported("flow collection syntax")
        kind, tag = ("sequence", SEQ_TAG) if opener == "[" else ("mapping", MAP_TAG)
        return Node(kind, tag, items, pos, k + 1, None, True), k + 1

    def skip(self, k: int, line_end: int) -> int:
        while k < line_end and self.text[k] == " ":
            k += 1
        if k < line_end and self.text[k] == "#":
            raise Unsupported("comment inside a flow collection")
        return k

    def flow_node(self, k: int, line_end: int, closer: str) -> tuple[Node, int]:
        text = self.text
        first = text[k]
        if first in "[{":
            return self.flow(k, line_end)
        if first in "\"'":
            node, _, end = self.quoted(k, line_end)
            return node, end
        if first in "&*!%@`|>#,]}?" or (first in "-:" and k + 1 < line_end and text[k + 1] in " ,[]{}"):
            raise Unsupported("indicator in a flow collection")
        j = k
        while j < line_end:
            c = text[j]
            if c in ",[]{}":
                break
            if c == ":" and (j + 1 == line_end or text[j + 1] in " ,[]{}"):
                break
            if c == "#" and text[j - 1] == " ":
                raise Unsupported("comment inside a flow collection")
            j += 1
        value = text[k:j].rstrip(" ")
        if not value or "\t" in value:
            raise Unsupported("empty plain scalar in a flow collection")
        return self.scalar(PLAIN_TAG, value, k, k + len(value), None), k + len(value)


def lines_have_content(lines: list[tuple[int, int, int, int]]) -> bool:
    return any(kind == _CONTENT for *_, kind in lines)


def _unescape(raw: str) -> str:
    if "\\" not in raw:
        return raw
    out: list[str] = []
    k = 0
    while k < len(raw):
        c = raw[k]
        if c != "\\":
            out.append(c)
            k += 1
            continue
        if k + 1 >= len(raw):
            raise Unsupported("dangling escape")
        e = raw[k + 1]
        if e in _ESCAPES:
            out.append(_ESCAPES[e])
            k += 2
        elif e in _HEX:
            digits = raw[k + 2 : k + 2 + _HEX[e]]
            if len(digits) != _HEX[e] or any(d not in "0123456789abcdefABCDEF" for d in digits):
                raise Unsupported("bad escape")
            out.append(chr(int(digits, 16)))
            k += 2 + _HEX[e]
        else:
            raise Unsupported("unknown escape")
    return "".join(out)


def parse(text: str, start: int, end: int) -> Node | None:
    """The root node of ``text[start:end]`` (one document); positions index ``text``."""
    try:
        return _Reader(text, start, end).document()
    except (IndexError, RecursionError):
        raise Unsupported("unexpected end of line, or deep nesting") from None
