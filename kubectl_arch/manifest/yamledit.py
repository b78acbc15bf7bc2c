"""Apply patch operations to YAML *text*, touching only the bytes that change.

Instead of loading a document and dumping it again (which reflows comments, quotes, indents
and YAML 1.1 scalars), each operation becomes a splice of the original text at positions
taken from the parsed nodes: a new key is inserted as lines in the document's own
indentation style, a removed sequence item loses exactly its lines, a replaced node is
re-rendered in place. Everything outside the spliced ranges stays byte-identical.

Nodes shared with other places of the document are never changed in place, since that would
change every place that shares them:

* a node reached through an alias (``affinity: *common``), or whose key a merge key brings
  (``<<: *defaults``), is written out at the edit site instead: the alias is replaced by the
  edited value, or the key is added to the mapping that merges it;
* a node that carries an anchor other places use (``&zones``) is rewritten at its own place,
  and the anchor moves, with the node's old value, to the first alias that used it, so every
  other user still reads exactly what it read before.

Operations are those of :mod:`kubectl_arch.affinity`: paths relative to a base node (the pod
spec), referring to the original document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from . import yamlnodes as yn
from .node import ALIAS, MAP_TAG, MAPPING, SCALAR, SEQ_TAG, SEQUENCE, Node, Verbatim

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-/]*")
_YAML11_WORDS = frozenset(
    {
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE",
        "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL",
    }
)  # fmt: skip

Op = tuple[Any, ...]


class EditError(ValueError):
    """The document's layout does not allow this splice (the caller may rewrite more)."""


class Style(NamedTuple):
    mapping_indent: int = 2
    sequence_offset: int = 0  # dash column minus parent key column
    newline: str = "\n"


class Edit(NamedTuple):
    start: int
    end: int
    text: str


# -- rendering ----------------------------------------------------------------------------------


def scalar(value: Any) -> str:
    """A scalar that YAML 1.1 and 1.2 readers both load as the same value: strings stay
    strings (quoted when they could read as anything else), numbers and booleans stay so;
    :class:`.node.Verbatim` text is written as it is."""
    if isinstance(value, Verbatim):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return yn.float_text(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text not in _YAML11_WORDS:
        return text
    from ..safetext import quoted

    return quoted(text)  # control and bidi characters escaped: the same string, safe to print


_RENDERED: dict[tuple[Any, ...], tuple[Any, list[str]]] = {}


def _block_lines_of(key: str | None, value: Any, column: int, style: Style) -> list[str]:
    """:func:`block_lines` of ``{key: value}`` (or ``[value]`` when ``key`` is None),
    remembered for the value object: a plan's values are rendered once however many
    workloads get them."""
    memo = (key, id(value), column, style)
    known = _RENDERED.get(memo)
    if known is not None and known[0] is value:
        return known[1]
    lines = block_lines({key: value} if key is not None else [value], column, style)
    if len(_RENDERED) >= 1024:
        _RENDERED.clear()
    _RENDERED[memo] = (value, lines)  # the value is kept alive, so its id stays its own
    return lines


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
        return "{}" if not value else flow(value, None, Style())
    if isinstance(value, list):
        return "[]" if not value else flow(value, None, Style())
    return scalar(value)


def _flow_scalar(value: Any) -> str:
    if isinstance(value, Verbatim) or value is None or isinstance(value, bool | int | float):
        return scalar(value)
    from ..safetext import quoted

    return quoted(str(value))  # always quoted in flow: `,` `[` `{` are indicators there


def flow(value: Any, column: int | None, style: Style) -> str:
    """Flow style (JSON where the data is JSON); pretty-printed from ``column`` when given."""
    if column is None:
        if isinstance(value, dict):
            return (
                "{" + ", ".join(f"{_flow_scalar(k)}: {flow(v, None, style)}" for k, v in value.items()) + "}"
            )
        if isinstance(value, list):
            return "[" + ", ".join(flow(v, None, style) for v in value) + "]"
        return _flow_scalar(value)
    step = style.mapping_indent
    inner = " " * (column + step)
    if isinstance(value, dict) and value:
        parts = [f"{inner}{_flow_scalar(k)}: {flow(v, column + step, style)}" for k, v in value.items()]
    elif isinstance(value, list) and value:
        parts = [f"{inner}{flow(v, column + step, style)}" for v in value]
    else:
        return flow(value, None, style)
    opener, closer = ("{", "}") if isinstance(value, dict) else ("[", "]")
    nl = style.newline
    return opener + nl + ("," + nl).join(parts) + nl + " " * column + closer


def _like(node: Node, value: Any, in_flow: bool = False) -> str:
    """``value`` as a scalar in the quoting style of the scalar it replaces, when that style
    reads it back as the same string (image references stay plain when they were)."""
    if isinstance(value, str) and node.kind == SCALAR and node.style is None and not in_flow:
        if (
            re.fullmatch(_PLAIN_REFERENCE, value)
            and not value.endswith(":")
            and yn.resolve_plain(value) == yn.STR_TAG
        ):
            return value
    elif isinstance(value, str) and node.kind == SCALAR and node.style == "'":
        return "'" + value.replace("'", "''") + "'"
    return _flow_scalar(value) if in_flow else _inline(value)


_PLAIN_REFERENCE = r"[A-Za-z0-9][A-Za-z0-9._/:@+\-]*"  # compiled on first use (re's own cache)
_SCALAR_TAGS = (yn.PLAIN_TAG, yn.STR_TAG)


# -- layout -------------------------------------------------------------------------------------


def column(text: str, pos: int) -> int:
    return pos - (text.rfind("\n", 0, pos) + 1)


def line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def line_end(text: str, pos: int) -> int:
    """Position just after the line containing ``pos`` (or ``pos`` if it starts a line)."""
    if pos > 0 and text[pos - 1] == "\n":
        return pos
    eol = text.find("\n", pos)
    return len(text) if eol < 0 else eol + 1


def detect_style(parsed: yn.Parsed, node: Node, near: tuple[Node, Node] | None = None) -> Style:
    """Indentation habits of the document around ``node`` (a block mapping); ``near``, a
    (key, value) pair where the edits will be (a pod spec under its key), is looked at first."""
    import collections

    text = parsed.text
    newline = "\r\n" if "\r\n" in text[parsed.start : parsed.start + 4096] else "\n"
    mapping_indent = sequence_offset = None
    if near is not None and near[1].kind == MAPPING and not near[1].flow and near[1].value:
        key, value = near
        if text[value.start] not in "&!" and "\n" in text[key.end : value.start]:
            mapping_indent = column(text, value.start) - column(text, key.start)
    stack = collections.deque([near[1]] if near is not None else [])
    stack.append(node)
    seen = 0
    while stack and (mapping_indent is None or sequence_offset is None) and seen < 2000:
        current = stack.popleft()
        seen += 1
        if current.kind == SEQUENCE:
            stack.extend(current.value)
            continue
        if current.kind != MAPPING or current.flow:
            continue
        for key, value in current.value:
            if value.kind not in (MAPPING, SEQUENCE) or value.flow or not value.value:
                continue
            if text[value.start] in "&!":  # anchor or tag: the content starts elsewhere
                continue
            key_column = column(text, key.start)
            if value.kind == MAPPING:
                if mapping_indent is None and "\n" in text[key.end : value.start]:
                    mapping_indent = column(text, value.start) - key_column
            elif sequence_offset is None:
                dash = _dash_position(text, value.value[0])
                if dash is not None:
                    sequence_offset = column(text, dash) - key_column
            stack.append(value)
    return Style(
        mapping_indent if mapping_indent and mapping_indent > 0 else 2,
        sequence_offset if sequence_offset is not None and sequence_offset >= 0 else 0,
        newline,
    )


def _dash_position(text: str, item: Node) -> int | None:
    """Position of the ``-`` that introduces a block sequence item."""
    pos = item.start
    begin = line_start(text, pos)
    before = text[begin:pos].rstrip()
    if before:  # "- item" or "- - item" on one line
        return begin + len(before) - 1 if before.endswith("-") else None
    while begin > 0:  # "-" (or "- # comment") alone on an earlier line
        stop = begin - 1
        begin = line_start(text, stop)
        line = text[begin:stop].strip()
        if not line or line.startswith("#"):
            continue
        if line == "-" or (line.startswith("-") and line[1:].lstrip().startswith("#")):
            return begin + text[begin:stop].index("-")
        return None
    return None


def _empty(node: Node) -> bool:
    """Whether a node is an empty plain scalar written as nothing at all (``key:``)."""
    return (
        node.kind == SCALAR
        and node.style is None
        and node.anchor is None
        and node.tag == yn.PLAIN_TAG
        and node.value == ""
    )


def content_end(text: str, node: Node) -> int:
    """End of a node's own text, without the comments and blank lines that may follow it."""
    if node.kind == ALIAS or node.flow:
        return node.end
    if node.kind == SCALAR:
        if node.style in ("|", ">"):
            end = node.end
            while end > node.start and text[end - 1] in " \t\r\n":
                end -= 1
            return end
        return node.end
    if not node.value:
        return node.end
    if node.kind == SEQUENCE:
        return content_end(text, node.value[-1])
    key, value = node.value[-1]
    if _empty(value):
        return text.index(":", key.end) + 1  # "key:" with no value
    return content_end(text, value)


class Step(NamedTuple):
    """One node on a path: as written there (``node``, maybe an alias), how it was reached."""

    node: Node
    parent: Node | None  # the mapping or sequence holding it (aliases followed)
    key: Node | None  # its key node, in a mapping
    index: int | None  # its index, in a sequence
    merge: Node | None  # the merge key (<<) that brings it, when not the mapping's own key


# -- the splicer ----------------------------------------------------------------------------------


class Splicer:
    """Turns operations into text edits, for one document (any number of base nodes).

    :meth:`apply` takes the operations of one base node (a pod spec) at a time;
    :meth:`finish` completes the document's edits (anchor moves) and returns them.
    ``rewritten`` says whether any node had to be written out anew (shared nodes, or
    :meth:`rewrite_entries`), so that the caller reads the whole document back.
    """

    def __init__(self, parsed: yn.Parsed, style: Style) -> None:
        self.parsed = parsed
        self.text = parsed.text
        self.style = style
        self.edits: list[Edit] = []
        self.rewritten = False
        self._flow_removals: dict[int, tuple[Node, set[int]]] = {}
        self._users: dict[int, list[Node]] | None = None
        self._steps: dict[tuple[Any, ...], list[Step]] = {}
        self._replaced: set[int] = set()  # aliases that edits will write out anew
        # Keys added to an empty mapping ({}), written as one edit (_flush_empty).
        self._empty_adds: dict[int, tuple[Step, dict[str, Any]]] = {}

    # -- navigation --------------------------------------------------------------------------
    def users(self) -> dict[int, list[Node]]:
        """The aliases naming each node, by the node's id (only the full reader makes aliases)."""
        if self._users is None:
            self._users = {}
            if self.parsed.full:
                for node in yn.walk(self.parsed.root):
                    if node.kind == ALIAS:
                        self._users.setdefault(id(node.value), []).append(node)
        return self._users

    def referenced(self) -> set[int]:
        """Ids of the nodes some alias names."""
        return set(self.users())

    def expect(self, base: Sequence[Any], ops: Iterable[Op]) -> None:
        """Say, before :meth:`apply` is called for any base, which operations will be applied:
        an alias on their way will be written out anew, so an anchored node that only such
        aliases use is no longer shared (and can be edited in place)."""
        if not self.users():
            return
        base = tuple(base)
        for op in ops:
            full = base + tuple(op[1])
            for step in self.steps(full[:-1] if op[0] == "add" else full):
                if step.node.kind == ALIAS:
                    self._replaced.add(id(step.node))

    def steps(self, path: Sequence[Any]) -> list[Step]:
        """The nodes from the document root along ``path`` (keys and indexes)."""
        path = tuple(path)
        known = self._steps.get(path)
        if known is None:
            known = self._steps[path] = self._walk(path)
        return known

    def _walk(self, path: tuple[Any, ...]) -> list[Step]:
        root = self.parsed.root
        if root is None:
            raise EditError("empty document")
        out = [Step(root, None, None, None, None)]
        node = root
        for part in path:
            container = yn.deref(node)
            if isinstance(part, int):
                if container.kind != SEQUENCE or part >= len(container.value):
                    raise EditError(f"no item {part} to edit")
                node = container.value[part]
                out.append(Step(node, container, None, part, None))
            else:
                if container.kind != MAPPING:
                    raise EditError(f"cannot edit {part!r}: not inside a mapping")
                found = yn.find(container, part)
                if found is None:
                    raise EditError(f"no key {part!r} to edit")
                node = found.value
                out.append(Step(node, container, found.key, None, found.merge))
        return out

    def _shared(self, step: Step) -> bool:
        if step.merge is not None or step.node.kind == ALIAS:
            return True
        users = self.users().get(id(step.node))
        return users is not None and any(id(alias) not in self._replaced for alias in users)

    # -- operations on one base ------------------------------------------------------------
    def apply(self, base: Sequence[Any], ops: Iterable[Op]) -> None:
        """Splice ``ops`` (paths relative to the node at path ``base`` from the document root).

        An operation whose way from the root passes through a shared node (see the module
        docstring) is not spliced there: the topmost shared node of its way is written out
        anew at its place, with every operation under it applied to its data.
        """
        base = tuple(base)
        private: list[Op] = []
        groups: dict[tuple[Any, ...], list[Op]] = {}
        for op in ops:
            full = base + tuple(op[1])
            point = self._shared_point(op[0], full)
            if point is None:
                private.append(op)
            else:
                groups.setdefault(full[:point], []).append((op[0], full, *op[2:]))
        for path, group in groups.items():
            self._rewrite(path, group)
        for op in private:
            self._apply_op(base, op)
        self._flush_flow()
        self._flush_empty()

    def _shared_point(self, kind: str, full: tuple[Any, ...]) -> int | None:
        """The length of the path to the topmost shared node an operation would change, or
        None when it changes no shared node."""
        if kind == "add":  # the mapping or list gains an entry: it and its ancestors change
            steps = self.steps(full[:-1])
            last = len(steps)
        else:  # the node is removed or replaced: its ancestors change
            steps = self.steps(full)
            last = len(steps) - 1
        for i in range(1, last):
            if self._shared(steps[i]):
                return i
        if last < len(steps) and steps[last].merge is not None:
            return last  # its key comes from a merge: the merging mapping gets its own
        return None

    def _apply_op(self, base: tuple[Any, ...], op: Op) -> None:
        kind, path = op[0], base + tuple(op[1])
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

    def rewrite_entries(self, base: Sequence[Any], ops: Iterable[Op]) -> None:
        """The slower, always applicable way: every top-level entry of the base mapping that
        the operations touch is written out anew, in flow style, with its edited value; the
        other entries stay as they are (and a shared base is written out as a whole)."""
        from .. import affinity

        base = tuple(base)
        ops = list(ops)
        self.rewritten = True
        steps = self.steps(base)
        shared = next((i for i, s in enumerate(steps) if i and self._shared(s)), None)
        if shared is not None:
            self._rewrite(base[:shared], [(op[0], base + tuple(op[1]), *op[2:]) for op in ops])
            return
        mapping = yn.deref(steps[-1].node)
        if mapping.kind != MAPPING:
            raise EditError("not a mapping")
        new = affinity.apply(yn.to_data(mapping, typed=yn.RENDER), ops)
        mark = len(self.edits)
        for key in dict.fromkeys(op[1][0] for op in ops):
            found = yn.find(mapping, key)
            if found is None:
                self.add_key(base, key, new[key])
            elif found.merge is not None:
                try:
                    self._add_own_key(mapping, found.key, new[key])
                except EditError:  # its own key is written before the merge that overrides it
                    del self.edits[mark:]
                    # the whole mapping written out anew, merges applied: the same meaning
                    self._rewrite(base, [(op[0], base + tuple(op[1]), *op[2:]) for op in ops])
                    return
            else:
                self._replace_value(Step(found.value, mapping, found.key, None, None), new[key], flat=True)
        self._flush_empty()

    def _rewrite(self, path: tuple[Any, ...], ops: list[Op]) -> None:
        """Write the node at ``path`` out anew at its place, ``ops`` (paths from the root)
        applied to its data."""
        from .. import affinity

        self.rewritten = True
        step = self.steps(path)[-1]
        moved = [(op[0], tuple(op[1])[len(path) :], *op[2:]) for op in ops]
        whole = [op for op in moved if not op[1]]
        # the node itself replaced, or its data with the operations applied
        value = whole[-1][2] if whole else affinity.apply(yn.to_data(step.node, typed=yn.RENDER), moved)
        if step.merge is not None:
            self._add_own_key(step.parent, step.key, value)
        else:
            self._replace_value(step, value, flat=False)

    def _add_own_key(self, mapping: Node | None, key: Node | None, value: Any) -> None:
        """Add ``key`` to a mapping that merges it, after its merge keys, so that it wins."""
        if mapping is None or key is None:
            raise EditError("no mapping to add the key to")
        name = yn.text(key)
        last_merge = max(i for i, (k, _) in enumerate(mapping.value) if yn.is_merge_key(k))
        for k, _ in mapping.value[:last_merge]:
            if k.kind == SCALAR and not yn.is_merge_key(k) and yn.text(k) == name:
                raise EditError(f"{name!r} is written before a merge key (<<) that overrides it")
        merge_key, merge_value = mapping.value[last_merge]
        end = content_end(self.text, merge_value)
        if mapping.flow:
            self.edits.append(Edit(end, end, f", {_flow_scalar(name)}: {flow(value, None, self.style)}"))
            return
        lines = block_lines({name: value}, column(self.text, merge_key.start), self.style)
        self._insert_after_line(end, lines)

    def _replace_value(self, step: Step, value: Any, flat: bool) -> None:
        """Replace a node as written at its place (an alias, an anchored node, a block or flow
        collection, a scalar) with ``value``; ``flat`` writes collections in flow style."""
        text, node, parent = self.text, step.node, step.parent
        end = content_end(text, node)
        collection = isinstance(value, dict | list) and bool(value)
        if parent is None:
            raise EditError("cannot replace the document")
        if parent.kind == MAPPING and not parent.flow and step.key is not None:
            colon = text.index(":", step.key.end)
            if _empty(node):  # "key:" (null): the node is placed where the next token starts
                end = colon + 1
            if collection and not flat:
                column_ = column(text, step.key.start) + (
                    self.style.mapping_indent if isinstance(value, dict) else self.style.sequence_offset
                )
                lines = block_lines(value, column_, self.style)
                if "\n" in text[colon:end]:
                    nl = self.style.newline
                    self.edits.append(Edit(colon + 1, end, nl + nl.join(lines)))
                else:  # the old value was on the key's line: what follows it there stays
                    if end > colon + 1:
                        self.edits.append(Edit(colon + 1, end, ""))
                    self._insert_after_line(colon, lines)
            else:
                rendered = flow(value, None, self.style) if collection else _inline(value)
                self.edits.append(Edit(colon + 1, end, " " + rendered))
            return
        rendered = flow(value, None, self.style) if collection else _inline(value)
        self.edits.append(Edit(node.start, end, rendered))

    def rollback(self, mark: int) -> None:
        """Forget the edits made since ``mark`` (a length of :attr:`edits`)."""
        del self.edits[mark:]
        self._flow_removals.clear()
        self._empty_adds.clear()

    def _flush_empty(self) -> None:
        """Write the keys added to each empty mapping: in block style when it is the value of a
        key of a block mapping (``driver: {}`` becomes ``driver:`` and the keys below it, a
        comment after ``{}`` kept on the key's line), else in flow style in its braces."""
        pending, self._empty_adds = self._empty_adds, {}
        for step, value in pending.values():
            mapping = yn.deref(step.node)
            parent = step.parent
            in_block = parent is not None and parent.kind == MAPPING and not parent.flow
            plain = step.node is mapping and mapping.anchor is None and step.merge is None
            if in_block and plain and step.key is not None:
                self._replace_value(step, value, flat=False)
                continue
            import json

            brace = self.text.index("{", mapping.start, mapping.end)
            pairs = ", ".join(f"{json.dumps(k)}: {flow(v, None, self.style)}" for k, v in value.items())
            self.edits.append(Edit(brace, mapping.end, "{" + pairs + "}"))

    # -- fine-grained operations (nodes no other place shares) ------------------------------
    def _target(self, path: tuple[Any, ...]) -> Step:
        return self.steps(path)[-1]

    def _insert_after_line(self, pos: int, lines: list[str]) -> None:
        nl = self.style.newline
        at = line_end(self.text, pos)
        prefix = nl if at == len(self.text) and not self.text.endswith("\n") else ""
        self.edits.append(Edit(at, at, prefix + "".join(line + nl for line in lines)))

    def add_key(self, path: tuple[Any, ...], key: str, value: Any) -> None:
        step = self._target(path)
        mapping = yn.deref(step.node)
        if mapping.kind != MAPPING:
            raise EditError(f"cannot add {key!r}: not a mapping")
        nl = self.style.newline
        if not mapping.value:  # {}: its keys are written together, as a block under a block key
            self._empty_adds.setdefault(id(mapping), (step, {}))[1][key] = value
            return
        if mapping.flow:
            self._add_flow_key(mapping, key, value)
            return
        first = mapping.value[0][0].start
        before = self.text[line_start(self.text, first) : first]
        own_line = not before.strip() or before.strip() == "?"  # "? key" (an explicit key)
        column_ = len(before) - len(before.lstrip(" ")) if own_line else column(self.text, first)
        lines = _block_lines_of(key, value, column_, self.style)
        if own_line and step.key is not None:
            # Right under the parent key's line, above any comment that heads the first key.
            self._insert_after_line(step.key.end, lines)
        elif own_line:
            start = line_start(self.text, first)
            self.edits.append(Edit(start, start, "".join(line + nl for line in lines)))
        else:  # "- first: ...": under the first entry when it is one line, so that the dash line stays
            end = content_end(self.text, mapping.value[0][1])
            if "\n" not in self.text[first:end] and mapping.value[0][1].kind != ALIAS:
                self._insert_after_line(end, lines)
                return
            # else the new key takes the first key's place on the dash line
            text = lines[0][column_:] + nl + "".join(line + nl for line in lines[1:]) + " " * column_
            self.edits.append(Edit(first, first, text))

    def _add_flow_key(self, mapping: Node, key: str, value: Any) -> None:
        import json

        text = self.text
        start, end = mapping.start, mapping.end
        brace = text.index("{", start, end)
        pair = f"{json.dumps(key)}: "
        if not mapping.value:
            self.edits.append(Edit(brace, end, "{" + pair + flow(value, None, self.style) + "}"))
            return
        first = mapping.value[0][0].start
        if "\n" in text[brace:first]:  # one key per line: keep it that way
            column_ = column(text, first)
            new = pair + flow(value, column_, self.style) + "," + self.style.newline + " " * column_
        else:
            new = pair + flow(value, None, self.style) + ", "
        self.edits.append(Edit(first, first, new))

    def append(self, path: tuple[Any, ...], value: Any) -> None:
        seq = yn.deref(self._target(path).node)
        if seq.kind != SEQUENCE:
            raise EditError("cannot append: not a list")
        if seq.flow or not seq.value:
            self._append_flow(seq, value)
            return
        dash = _dash_position(self.text, seq.value[0])
        if dash is None:
            raise EditError("cannot find the list's layout")
        lines = _block_lines_of(None, value, column(self.text, dash), self.style)
        self._insert_after_line(content_end(self.text, seq.value[-1]), lines)

    def _append_flow(self, seq: Node, value: Any) -> None:
        text = self.text
        start, end = seq.start, seq.end
        if not seq.value:
            bracket = text.index("[", start, end)
            self.edits.append(Edit(bracket, end, "[" + flow(value, None, self.style) + "]"))
            return
        last_end = content_end(text, seq.value[-1])
        last_start = seq.value[-1].start
        previous = seq.value[-2].end if len(seq.value) > 1 else text.index("[", start)
        if "\n" in text[previous:last_start]:
            column_ = column(text, last_start)
            new = "," + self.style.newline + " " * column_ + flow(value, column_, self.style)
        else:
            new = ", " + flow(value, None, self.style)
        self.edits.append(Edit(last_end, last_end, new))

    def remove(self, path: tuple[Any, ...]) -> None:
        step = self._target(path)
        seq, index = step.parent, step.index
        if index is None or seq is None or seq.kind != SEQUENCE:
            raise EditError("only list items can be removed")
        if len(seq.value) == 1:
            raise EditError("refusing to empty a list")
        item = step.node
        if seq.flow:  # removals from one flow list become one edit (see _flush_flow)
            self._flow_removals.setdefault(id(seq), (seq, set()))[1].add(index)
            return
        dash = _dash_position(self.text, item)
        if dash is None:
            raise EditError("cannot find the list item's layout")
        start = line_start(self.text, dash)
        if self.text[start:dash].strip():
            raise EditError("list item shares its line with other content")
        self.edits.append(Edit(start, line_end(self.text, content_end(self.text, item)), ""))

    def replace(self, path: tuple[Any, ...], value: Any) -> None:
        step = self._target(path)
        node = step.node
        text, nl = self.text, self.style.newline
        start, end = node.start, node.end
        collection = isinstance(value, dict | list) and bool(value)
        whole = (
            node.kind == ALIAS or node.anchor is not None or node.tag not in (MAP_TAG, SEQ_TAG, *_SCALAR_TAGS)
        )
        flow_node = node.kind in (MAPPING, SEQUENCE) and node.flow
        parent = step.parent
        in_block_mapping = step.key is not None and parent is not None and not parent.flow
        if whole or (
            collection and in_block_mapping and (node.kind == SCALAR or (flow_node and not node.value))
        ):
            if parent is None:
                raise EditError("cannot replace the document")
            self._replace_value(step, value, flat=False)
            return
        if flow_node or (node.kind == SCALAR and collection):
            column_ = _indent(text, start) if "\n" in text[start:end] else None
            self.edits.append(Edit(start, end, flow(value, column_, self.style)))
            return
        if node.kind == SCALAR:
            in_flow = parent is not None and parent.flow
            self.edits.append(Edit(start, content_end(text, node), _like(node, value, in_flow)))
            return
        if not collection:
            raise EditError("cannot replace a block collection with an empty value")
        if node.kind == SEQUENCE:  # a block sequence starts at its first dash
            dash = _dash_position(text, node.value[0])
            if dash is None:
                raise EditError("cannot find the list's layout")
            start = dash
        column_ = column(text, start)
        lines = block_lines(value, column_, self.style)
        rendered = lines[0][column_:] + "".join(nl + line for line in lines[1:])
        self.edits.append(Edit(start, content_end(text, node), rendered))

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
                    start, end = items[index - 1].end, items[last].end
                else:  # "removed..., " before the first kept item
                    start, end = items[0].start, items[last + 1].start
                self.edits.append(Edit(start, end, ""))
                index = last + 1
        self._flow_removals.clear()

    # -- the document ------------------------------------------------------------------------
    def finish(self) -> list[Edit]:
        """The document's edits, with every anchor that an edit removes or rewrites moved, with
        its old value, to the first alias that still uses it."""
        if self.parsed.full and self.edits:
            self._move_anchors()
        return self.edits

    def _move_anchors(self) -> None:
        gone = sorted((e.start, e.end) for e in self.edits if e.end > e.start)
        if not gone:
            return
        referenced = self.referenced()
        if not referenced:
            return

        import bisect

        starts = [a for a, _ in gone]
        reach = []  # the furthest end of the ranges up to each one (they may nest)
        for _, b in gone:
            reach.append(max(b, reach[-1]) if reach else b)

        def inside(pos: int) -> bool:
            i = bisect.bisect_right(starts, pos) - 1
            return i >= 0 and pos < reach[i]

        aliases: dict[int, list[Node]] = {}
        anchored: list[Node] = []
        for node in yn.walk(self.parsed.root):
            if node.kind == ALIAS:
                aliases.setdefault(id(node.value), []).append(node)
            elif node.anchor is not None and id(node) in referenced and inside(node.start):
                anchored.append(node)
        for node in anchored:
            users = sorted(
                (a for a in aliases.get(id(node), ()) if not inside(a.start)), key=lambda a: a.start
            )
            if not users:
                continue
            first = users[0]
            value = yn.to_data(node, typed=yn.RENDER)
            self.edits.append(Edit(first.start, first.end, f"&{node.anchor} {flow(value, None, self.style)}"))
            self.rewritten = True


def _indent(text: str, pos: int) -> int:
    line = text[line_start(text, pos) : pos]
    return len(line) - len(line.lstrip(" "))


def apply_edits(text: str, edits: Iterable[Edit], start: int = 0, end: int | None = None) -> str:
    """``text[start:end]`` with non-overlapping edits applied (insertions at the same
    position keep their order); raises EditError for overlapping edits."""
    return "".join(pieces(text, edits, start, end))


def pieces(text: str, edits: Iterable[Edit], start: int = 0, end: int | None = None) -> Iterable[str]:
    """The pieces of :func:`apply_edits`, for writing a large text without building it."""
    stop = len(text) if end is None else end
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    pos = start
    for edit in ordered:
        if edit.start < pos:
            raise EditError("overlapping edits")
        if edit.start > pos:
            yield text[pos : edit.start]
        yield edit.text
        pos = edit.end
    if pos < stop:
        yield text[pos:stop]
