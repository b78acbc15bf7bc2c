"""The full YAML reader: any document YAML 1.1 or 1.2 allows, read with a well-kept parser
into the node tree of :mod:`.node`, with positions.

The parser is libyaml's, through PyYAML's C extension, when it is installed (PyYAML comes with
the Kubernetes client; its wheels carry the extension): it is the parser go-yaml, and so
kubectl, was ported from, and it is fast. Otherwise it is ruamel.yaml's (a dependency, pure
Python), which refuses tabs as separating space (``key:<TAB>value``, a tab before a comment)
where libyaml and kubectl accept them. Either is imported only when a document needs it.
Invalid YAML is always reported in ruamel.yaml's words, so that every install says the same.

This module composes the parser's events into nodes itself, for three reasons the libraries'
composers do not serve: an alias stays an alias node that knows its ``*name`` text and the
node it names (an edit must not change what other users of an anchor see), anchors may be
redefined as YAML allows, and composing is iterative, so deep nesting is no reason for a
``RecursionError``. Tags are kept as written; plain scalars are typed later, with YAML 1.1
rules, as the API server types them (:func:`.yamlnodes.tag`).
"""

from __future__ import annotations

import re
from typing import Any

from .node import (
    ALIAS,
    MAP_TAG,
    MAPPING,
    PLAIN_TAG,
    SCALAR,
    SEQ_TAG,
    SEQUENCE,
    STR_TAG,
    Node,
    YamlShapeError,
    YamlSyntaxError,
)

# Deeper than any Kubernetes object nests; refused before the parser's work grows with depth
# (its scanner revisits every open flow level for each token).
MAX_DEPTH = 400
_DEEP = re.compile(r"(?:[\[{][ \t\r\n]*){" + str(MAX_DEPTH + 1) + "}")


LIBYAML, RUAMEL = "libyaml", "ruamel"


class _Parser:
    """One parser's entry points: ``parse(text)`` (an iterable of events), its event module
    and its error classes."""

    def __init__(self, name: str) -> None:
        self.name = name
        if name == LIBYAML:
            import yaml  # only its C extension is used: ImportError or AttributeError without it
            from yaml import events

            loader = yaml.CSafeLoader
            self.parse = lambda chunk: yaml.parse(chunk, Loader=loader)
            self.events = events
            self.marked, self.error = yaml.MarkedYAMLError, yaml.YAMLError
        else:
            from ruamel.yaml import YAML, events
            from ruamel.yaml.error import MarkedYAMLError, YAMLError

            reader = YAML(typ="safe", pure=True)
            self.parse = reader.parse
            self.events = events
            self.marked, self.error = MarkedYAMLError, YAMLError


_parsers: dict[str | None, _Parser] = {}


def parser(name: str | None = None) -> _Parser:
    """The parser to use (libyaml when PyYAML's C extension is there, else ruamel.yaml), or
    the one named."""
    found = _parsers.get(name)
    if found is None:
        if name is None:
            try:
                found = parser(LIBYAML)
            except (ImportError, AttributeError):
                found = parser(RUAMEL)
        else:
            found = _Parser(name)
        _parsers[name] = found
    return found


def _position(text: str, start: int, line: int, column: int) -> tuple[int, int]:
    """1-based line and column in ``text`` of a 0-based (line, column) within ``text[start:]``;
    ``start`` is at the start of a line."""
    return text.count("\n", 0, start) + line + 1, column + 1


def compose(text: str, start: int, end: int, reader: str | None = None) -> Node | None:
    """The root node of the document ``text[start:end]`` (None when it holds no node), read
    by :func:`parser` (``reader`` names one: :data:`LIBYAML` or :data:`RUAMEL`).

    Raises :class:`YamlSyntaxError` for invalid YAML, including an alias to an undefined
    anchor and a second document in the span, and YamlShapeError for nesting deeper than
    :data:`MAX_DEPTH`.
    """
    chosen = parser(reader)
    events, MarkedYAMLError, YAMLError = chosen.events, chosen.marked, chosen.error

    if _DEEP.search(text, start, end):
        raise YamlShapeError(f"document nests more than {MAX_DEPTH} levels deep")
    chunk = text[start:end]
    # A byte order mark that starts the document (before or right after its "---" line) is
    # dropped, as kubectl does (it reads each document on its own, and go-yaml drops a mark
    # at the start of its input): "cat a.yaml b.yaml" where b was saved with one.
    cut = _document_bom(chunk)
    if cut is not None:
        chunk = chunk[:cut] + chunk[cut + 1 :]
        base = start

        def at(index: int) -> int:
            return base + index + (index >= cut)
    else:
        offset = start

        def at(index: int) -> int:
            return offset + index

    anchors: dict[str, Node] = {}
    stack: list[list[Any]] = []  # [collection node, pending mapping key]
    root: Node | None = None
    documents = 0
    try:
        for event in chosen.parse(chunk):
            kind = type(event)
            if kind is events.ScalarEvent:
                tag = event.tag
                if tag is None or str(tag) == "!":
                    tag = PLAIN_TAG if tag is None and event.implicit[0] else STR_TAG
                node = Node(
                    SCALAR,
                    str(tag),
                    event.value,
                    at(event.start_mark.index),
                    at(event.end_mark.index),
                    event.style or None,
                    False,
                    event.anchor,
                )
            elif kind is events.AliasEvent:
                target = anchors.get(event.anchor)
                if target is None:
                    line, column = _position(text, start, event.start_mark.line, event.start_mark.column)
                    raise YamlSyntaxError(f"found undefined alias {event.anchor!r}", line, column)
                node = Node(ALIAS, None, target, at(event.start_mark.index), at(event.end_mark.index))
            elif kind is events.MappingStartEvent or kind is events.SequenceStartEvent:
                mapping = kind is events.MappingStartEvent
                tag = event.tag
                if tag is None or str(tag) == "!":
                    tag = MAP_TAG if mapping else SEQ_TAG
                collection = Node(
                    MAPPING if mapping else SEQUENCE,
                    str(tag),
                    [],
                    at(event.start_mark.index),
                    at(event.start_mark.index),
                    None,
                    bool(event.flow_style),
                    event.anchor,
                )
                if event.anchor is not None:
                    anchors[event.anchor] = collection
                stack.append([collection, None])
                if len(stack) > MAX_DEPTH:
                    raise YamlShapeError(f"document nests more than {MAX_DEPTH} levels deep")
                continue
            elif kind is events.MappingEndEvent or kind is events.SequenceEndEvent:
                node, pending = stack.pop()
                if pending is not None:  # pragma: no cover - the parser always pairs keys
                    raise YamlSyntaxError("mapping key without a value", 1, 1)
                if node.flow:
                    node.end = at(event.end_mark.index)
                elif node.value:
                    last = node.value[-1]
                    node.end = (last[1] if isinstance(last, tuple) else last).end
            elif kind is events.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    line, column = _position(text, start, event.start_mark.line, event.start_mark.column)
                    raise YamlSyntaxError("a second document where one was expected", line, column)
                continue
            else:
                continue
            if kind is events.ScalarEvent and node.anchor is not None:
                anchors[node.anchor] = node
            if not stack:
                root = node
                continue
            top = stack[-1]
            parent = top[0]
            if parent.kind == SEQUENCE:
                parent.value.append(node)
            elif top[1] is None:
                top[1] = node
            else:
                parent.value.append((top[1], node))
                top[1] = None
    except MarkedYAMLError as exc:
        if chosen.name == LIBYAML:
            return _in_ruamel_words(text, start, end)
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            problem = f"{exc.problem} ({exc.context})"
        line, column = _position(text, start, mark.line if mark else 0, mark.column if mark else 0)
        raise YamlSyntaxError(problem, line, column) from None
    except YAMLError as exc:  # reader errors: non-printable characters and the like
        if chosen.name == LIBYAML:
            return _in_ruamel_words(text, start, end)
        message = str(exc).splitlines()[0]
        position = getattr(exc, "position", None)
        if isinstance(position, int):
            where = start + position
            line = text.count("\n", 0, where) + 1
            column = where - (text.rfind("\n", 0, where) + 1) + 1
            raise YamlSyntaxError(message, line, column) from None
        raise YamlSyntaxError(message, text.count("\n", 0, start) + 1, 1) from None
    return root


def _document_bom(chunk: str) -> int | None:
    """Where a byte order mark starts the document ``chunk``: at its start, or right after
    its ``---`` line; None when it does not."""
    if chunk.startswith("\ufeff"):
        return 0
    if chunk.startswith("---"):
        eol = chunk.find("\n")
        if eol >= 0 and chunk.startswith("\ufeff", eol + 1):
            return eol + 1
    return None


def _in_ruamel_words(text: str, start: int, end: int) -> Node | None:
    """Invalid YAML is reported in ruamel.yaml's words, whichever parser is installed, so that
    every install says the same (and ruamel.yaml reads whatever libyaml would not)."""
    return compose(text, start, end, RUAMEL)
