"""Apply patch operations to YAML *text*, touching only the bytes that change.

Instead of loading a document and dumping it again (which reflows comments, quotes, indents
and YAML 1.1 scalars), each operation becomes a splice of the original text at positions
taken from parser marks: a new key is inserted as lines in the document's own indentation
style, a removed sequence item loses exactly its lines, a replaced node is re-rendered in
place. Everything outside the spliced ranges stays byte-identical.

Operations are those of :mod:`kubectl_arch.affinity` (paths relative to a base mapping and
referring to the original document).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, NamedTuple

from . import yamlnodes as yn

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-/]*")
_YAML11_WORDS = frozenset(
    {
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE",
        "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL",
    }
)  # fmt: skip


class EditError(ValueError):
    """The document's layout does not allow a safe splice (aliases, odd nesting)."""


class Style(NamedTuple):
    mapping_indent: int = 2
    sequence_offset: int = 0  # dash column minus parent key column
    newline: str = "\n"


class Edit(NamedTuple):
    start: int
    end: int
    text: str


def scalar(value: Any) -> str:
    """A scalar that YAML 1.1 and 1.2 readers both load as the same value: strings stay
    strings (quoted when they could read as anything else), integers and booleans stay so."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text not in _YAML11_WORDS:
        return text
    import json

    # A double-quoted scalar (JSON's escapes are YAML's too), with every character a terminal
    # would act on escaped as YAML double-quoted scalars allow: DEL and C1 (``\x9b``), NEL
    # (``\N``), the line and paragraph separators (``\L``, ``\P``), bidirectional formatting
    # (``\u202e``), and what YAML cannot carry raw (byte order marks, noncharacters, lone
    # surrogates). JSON already escapes C0.
    quoted = json.dumps(text, ensure_ascii=False)
    return _UNPRINTABLE.sub(_yaml_escape, quoted) if _UNPRINTABLE.search(quoted) else quoted


_UNPRINTABLE = re.compile(
    "[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff\ud800-\udfff]"
)
_YAML_NAMED = {"\x85": "\\N", "\u2028": "\\L", "\u2029": "\\P"}


def _yaml_escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _YAML_NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def block_lines(value: Any, column: int, style: Style) -> list[str]:
    """Block-style lines for a mapping (keys at ``column``) or list (dashes at ``column``)."""
    pad = " " * column
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            head = f"{pad}{scalar(key)}:"
            if isinstance(item, dict | list) and item:
                lines.append(head)
                inner = column + (style.mapping_indent if isinstance(item, dict) else style.sequence_offset)
                lines.extend(block_lines(item, inner, style))
            else:
                lines.append(f"{head} {_inline(item)}")
        return lines
    for item in value:
        if isinstance(item, dict | list) and item:
            inner = block_lines(item, column + 2, style)
            lines.append(f"{pad}- {inner[0][column + 2 :]}")
            lines.extend(inner[1:])
        else:
            lines.append(f"{pad}- {_inline(item)}")
    return lines


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return scalar(value)


_PLAIN_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@+\-]*")


def _like(node: Any, value: Any, in_flow: bool = False) -> str:
    """``value`` as a scalar in the quoting style of the scalar it replaces, when that style
    reads it back as the same string (image references stay plain when they were)."""
    if isinstance(value, str) and node.style in (None, "") and not in_flow:
        if (
            _PLAIN_REFERENCE.fullmatch(value)
            and not value.endswith(":")
            and yn.resolve_plain(value) == yn.STR_TAG
        ):
            return value
    elif isinstance(value, str) and node.style == "'":
        return "'" + value.replace("'", "''") + "'"
    return _inline(value)


def flow(value: Any, column: int | None, style: Style) -> str:
    """JSON (valid YAML flow style); pretty-printed from ``column`` when given."""
    import json

    if column is None:
        return json.dumps(value, ensure_ascii=False)
    text = json.dumps(value, ensure_ascii=False, indent=style.mapping_indent)
    return text.replace("\n", style.newline + " " * column)


def detect_style(parsed: yn.Parsed, node: Any) -> Style:
    """Indentation habits of the document around ``node`` (a block mapping)."""
    text = parsed.text
    newline = "\r\n" if "\r\n" in text[parsed.offset : parsed.offset + 4096] else "\n"
    mapping_indent = sequence_offset = None
    stack = [node]
    seen = 0
    while stack and (mapping_indent is None or sequence_offset is None) and seen < 2000:
        current = stack.pop(0)
        seen += 1
        if not yn.is_mapping(current) or current.flow_style:
            if yn.is_sequence(current):
                stack.extend(current.value)
            continue
        for key, value in current.value:
            if yn.is_alias_value(key, value):
                continue
            if yn.is_mapping(value) and not value.flow_style and value.value:
                if mapping_indent is None and value.start_mark.line > key.start_mark.line:
                    mapping_indent = value.start_mark.column - key.start_mark.column
                stack.append(value)
            elif yn.is_sequence(value) and not value.flow_style and value.value:
                if sequence_offset is None:
                    dash = _dash_position(parsed, value.value[0])
                    if dash is not None:
                        sequence_offset = _column(text, dash) - key.start_mark.column
                stack.append(value)
    return Style(
        mapping_indent if mapping_indent and mapping_indent > 0 else 2,
        sequence_offset if sequence_offset is not None and sequence_offset >= 0 else 0,
        newline,
    )


def _column(text: str, pos: int) -> int:
    return pos - (text.rfind("\n", 0, pos) + 1)


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _line_end(text: str, pos: int) -> int:
    """Position just after the line containing ``pos`` (or ``pos`` if it starts a line)."""
    if pos > 0 and text[pos - 1] == "\n":
        return pos
    eol = text.find("\n", pos)
    return len(text) if eol < 0 else eol + 1


def _dash_position(parsed: yn.Parsed, item: Any) -> int | None:
    """Position of the ``-`` that introduces a block sequence item."""
    text = parsed.text
    pos = parsed.start(item)
    line_start = _line_start(text, pos)
    before = text[line_start:pos].rstrip()
    if before:  # "- item" or "- - item" on one line
        return line_start + len(before) - 1 if before.endswith("-") else None
    while line_start > 0:  # "-" (or "- # comment") alone on an earlier line
        line_end = line_start - 1
        line_start = _line_start(text, line_end)
        line = text[line_start:line_end].strip()
        if not line or line.startswith("#"):
            continue
        if line == "-" or (line.startswith("-") and line[1:].lstrip().startswith("#")):
            return line_start + text[line_start:line_end].index("-")
        return None
    return None


class _Step(NamedTuple):
    node: Any
    key: Any  # key node when the node is a mapping value
    index: int | None  # index when the node is a sequence item
    parent: Any


class Splicer:
    """Turns operations on one base mapping into text edits."""

    def __init__(self, parsed: yn.Parsed, base: Any, base_key: Any, style: Style) -> None:
        self.parsed = parsed
        self.text = parsed.text
        self.base = base
        self.base_key = base_key
        self.style = style
        self.edits: list[Edit] = []
        self._flow_removals: dict[int, tuple[Any, set[int]]] = {}

    # -- navigation ------------------------------------------------------------------------
    def _resolve(self, path: tuple[Any, ...]) -> _Step:
        step = _Step(self.base, self.base_key, None, None)
        for part in path:
            node = step.node
            if isinstance(part, int):
                if not yn.is_sequence(node) or part >= len(node.value):
                    raise EditError(f"no item {part} to edit")
                item = node.value[part]
                if self.parsed.start(item) < self.parsed.start(node):
                    raise EditError("cannot edit a list item that is a YAML alias")
                step = _Step(item, None, part, node)
            else:
                if not yn.is_mapping(node):
                    raise EditError(f"cannot edit {part!r}: not inside a mapping")
                found = yn.find(node, part)
                if found is None:
                    raise EditError(f"no key {part!r} to edit")
                key, value = found
                if yn.is_alias_value(key, value):
                    raise EditError(f"cannot edit {part!r}: its value is a YAML alias")
                step = _Step(value, key, None, node)
        return step

    def _content_end(self, node: Any) -> int:
        """End of a node's own text, excluding trailing comments and blank lines."""
        if yn.is_scalar(node) or node.flow_style or not node.value:
            return self.parsed.end(node)
        if yn.is_sequence(node):
            last = node.value[-1]
            if self.parsed.start(last) < self.parsed.start(node):
                raise EditError("cannot edit around a YAML alias")
            return self._content_end(last)
        key, value = node.value[-1]
        if yn.is_alias_value(key, value):
            raise EditError("cannot edit around a YAML alias")
        if yn.is_scalar(value) and value.value == "" and value.style is None:
            return self.text.index(":", self.parsed.end(key)) + 1  # "key:" with no value
        return self._content_end(value)

    def _insert_after_line(self, pos: int, lines: list[str]) -> None:
        nl = self.style.newline
        at = _line_end(self.text, pos)
        prefix = nl if at == len(self.text) and not self.text.endswith("\n") else ""
        self.edits.append(Edit(at, at, prefix + "".join(line + nl for line in lines)))

    # -- operations ------------------------------------------------------------------------
    def add_key(self, path: tuple[Any, ...], key: str, value: Any) -> None:
        step = self._resolve(path)
        mapping = step.node
        if not yn.is_mapping(mapping):
            raise EditError(f"cannot add {key!r}: not a mapping")
        nl = self.style.newline
        if mapping.flow_style or not mapping.value:
            self._add_flow_key(mapping, key, value)
            return
        first_key = mapping.value[0][0]
        column = first_key.start_mark.column
        lines = block_lines({key: value}, column, self.style)
        first = self.parsed.start(first_key)
        own_line = not self.text[_line_start(self.text, first) : first].strip()
        if own_line and step.key is not None:
            # Right under the parent key's line, above any comment that heads the first key.
            self._insert_after_line(self.parsed.end(step.key), lines)
        elif own_line:
            start = _line_start(self.text, first)
            self.edits.append(Edit(start, start, "".join(line + nl for line in lines)))
        else:  # "- first: ..." : the new key takes the first key's place on the dash line
            text = lines[0][column:] + nl + "".join(line + nl for line in lines[1:]) + " " * column
            self.edits.append(Edit(first, first, text))

    def _add_flow_key(self, mapping: Any, key: str, value: Any) -> None:
        import json

        text = self.text
        start, end = self.parsed.start(mapping), self.parsed.end(mapping)
        brace = text.index("{", start, end)
        pair = f"{json.dumps(key)}: "
        if not mapping.value:
            self.edits.append(Edit(brace, end, "{" + pair + flow(value, None, self.style) + "}"))
            return
        first = self.parsed.start(mapping.value[0][0])
        if "\n" in text[brace:first]:  # one key per line: keep it that way
            column = _column(text, first)
            new = pair + flow(value, column, self.style) + "," + self.style.newline + " " * column
        else:
            new = pair + flow(value, None, self.style) + ", "
        self.edits.append(Edit(first, first, new))

    def append(self, path: tuple[Any, ...], value: Any) -> None:
        step = self._resolve(path)
        seq = step.node
        if not yn.is_sequence(seq):
            raise EditError("cannot append: not a list")
        if seq.flow_style or not seq.value:
            self._append_flow(seq, value)
            return
        dash = _dash_position(self.parsed, seq.value[0])
        if dash is None:
            raise EditError("cannot find the list's layout")
        lines = block_lines([value], _column(self.text, dash), self.style)
        self._insert_after_line(self._content_end(seq.value[-1]), lines)

    def _append_flow(self, seq: Any, value: Any) -> None:
        text = self.text
        start, end = self.parsed.start(seq), self.parsed.end(seq)
        if not seq.value:
            bracket = text.index("[", start, end)
            self.edits.append(Edit(bracket, end, "[" + flow(value, None, self.style) + "]"))
            return
        last_end = self._content_end(seq.value[-1])
        last_start = self.parsed.start(seq.value[-1])
        previous = self.parsed.end(seq.value[-2]) if len(seq.value) > 1 else text.index("[", start)
        if "\n" in text[previous:last_start]:
            column = _column(text, last_start)
            new = "," + self.style.newline + " " * column + flow(value, column, self.style)
        else:
            new = ", " + flow(value, None, self.style)
        self.edits.append(Edit(last_end, last_end, new))

    def remove(self, path: tuple[Any, ...]) -> None:
        step = self._resolve(path)
        seq, index = step.parent, step.index
        if index is None or not yn.is_sequence(seq):
            raise EditError("only list items can be removed")
        if len(seq.value) == 1:
            raise EditError("refusing to empty a list")
        item = step.node
        if seq.flow_style:  # removals from one flow list become one edit (see _flush_flow)
            self._flow_removals.setdefault(id(seq), (seq, set()))[1].add(index)
            return
        dash = _dash_position(self.parsed, item)
        if dash is None:
            raise EditError("cannot find the list item's layout")
        start = _line_start(self.text, dash)
        if self.text[start:dash].strip():
            raise EditError("list item shares its line with other content")
        self.edits.append(Edit(start, _line_end(self.text, self._content_end(item)), ""))

    def replace(self, path: tuple[Any, ...], value: Any) -> None:
        step = self._resolve(path)
        node = step.node
        text, nl = self.text, self.style.newline
        start, end = self.parsed.start(node), self.parsed.end(node)
        collection = isinstance(value, dict | list) and bool(value)
        flow_node = not yn.is_scalar(node) and node.flow_style
        in_block_mapping = step.key is not None and not step.parent.flow_style
        if collection and in_block_mapping and (yn.is_scalar(node) or (flow_node and not node.value)):
            # "key: null", "key:" or "key: []" -> "key:" followed by an indented block
            colon = text.index(":", self.parsed.end(step.key))
            if end > start:
                self.edits.append(Edit(colon + 1, end, ""))
            inner = step.key.start_mark.column + (
                self.style.mapping_indent if isinstance(value, dict) else self.style.sequence_offset
            )
            self._insert_after_line(colon, block_lines(value, inner, self.style))
            return
        if flow_node or (yn.is_scalar(node) and collection):
            column = _indent(text, start) if "\n" in text[start:end] else None
            self.edits.append(Edit(start, end, flow(value, column, self.style)))
            return
        if yn.is_scalar(node):
            in_flow = step.parent is not None and bool(step.parent.flow_style)
            self.edits.append(Edit(start, end, _like(node, value, in_flow)))
            return
        if not collection:
            raise EditError("cannot replace a block collection with an empty value")
        if yn.is_sequence(node):  # a block sequence starts at its first dash
            dash = _dash_position(self.parsed, node.value[0])
            if dash is None:
                raise EditError("cannot find the list's layout")
            start = dash
        column = _column(text, start)
        lines = block_lines(value, column, self.style)
        rendered = lines[0][column:] + "".join(nl + line for line in lines[1:])
        self.edits.append(Edit(start, self._content_end(node), rendered))

    def apply_ops(self, ops: Iterable[tuple[Any, ...]]) -> list[Edit]:
        for op in ops:
            kind, path = op[0], tuple(op[1])
            if kind == "add" and path[-1] == "-":
                self.append(path[:-1], op[2])
            elif kind == "add":
                self.add_key(path[:-1], path[-1], op[2])
            elif kind == "remove":
                self.remove(path)
            elif kind == "replace":
                self.replace(path, op[2])
            else:
                raise EditError(f"unknown operation {kind!r}")
        self._flush_flow()
        return self.edits

    def _flush_flow(self) -> None:
        """Delete each run of removed flow-list items with its separator; kept items, which
        other operations may be editing, are not touched."""
        for seq, removed in self._flow_removals.values():
            items = seq.value
            if len(removed) >= len(items):
                raise EditError("refusing to empty a list")
            index = 0
            while index < len(items):
                if index not in removed:
                    index += 1
                    continue
                last = index
                while last + 1 < len(items) and last + 1 in removed:
                    last += 1
                if index > 0:  # ", removed..." after the previous kept item
                    start, end = self.parsed.end(items[index - 1]), self.parsed.end(items[last])
                else:  # "removed..., " before the first kept item
                    start, end = self.parsed.start(items[0]), self.parsed.start(items[last + 1])
                self.edits.append(Edit(start, end, ""))
                index = last + 1
        self._flow_removals.clear()


def _indent(text: str, pos: int) -> int:
    line_start = _line_start(text, pos)
    line = text[line_start:pos]
    return len(line) - len(line.lstrip(" "))


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits; insertions at the same position keep their order."""
    ordered = sorted(enumerate(edits), key=lambda e: (e[1].start, e[1].end, e[0]))
    out: list[str] = []
    pos = 0
    for _, edit in ordered:
        if edit.start < pos:
            raise EditError("overlapping edits")
        out.append(text[pos : edit.start])
        out.append(edit.text)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)
