"""The node tree both YAML readers produce (:mod:`.fastyaml` and :mod:`.fullyaml`).

A node is a scalar, a mapping (``value`` a list of ``(key, value)`` node pairs in document
order, merge keys ``<<`` included as written), a sequence (``value`` a list of nodes) or an
alias (``value`` the node its anchor names; ``start``/``end`` the ``*name`` token). Positions
are indexes into the whole text the node was read from: ``start`` where the node's text
begins (its anchor or tag, when it has one), ``end`` where it ends (for a block scalar, the
line after its last line; for a block collection, the end of its last child).

Plain scalars are tagged :data:`PLAIN_TAG` and typed only when asked (YAML 1.1 rules, see
:func:`kubectl_arch.manifest.yamlnodes.tag`); quoted and block scalars are strings.
"""

from __future__ import annotations

from typing import Any

PLAIN_TAG = "tag:kubectl-arch.dev,2024:plain"
STR_TAG = "tag:yaml.org,2002:str"
SEQ_TAG = "tag:yaml.org,2002:seq"
MAP_TAG = "tag:yaml.org,2002:map"

SCALAR, MAPPING, SEQUENCE, ALIAS = "scalar", "mapping", "sequence", "alias"


class YamlSyntaxError(ValueError):
    """Invalid YAML; ``line`` and ``column`` are 1-based positions in the whole text. Raised by
    the full reader (:mod:`.fullyaml`, loaded only for the documents that need it)."""

    def __init__(self, problem: str, line: int, column: int) -> None:
        super().__init__(f"line {line}, column {column}: {problem}")
        self.problem, self.line, self.column = problem, line, column


class YamlShapeError(ValueError):
    """Valid YAML that pin cannot use as it is (a non-string key, an alias loop or bomb, nesting
    deeper than any Kubernetes object...)."""


class NeedFullParse(Exception):
    """A value the fast reader does not compute (a block scalar's) was asked for."""


class _Unread:
    """The value of a block scalar the fast reader left uncomputed: any use of it as text
    raises :class:`NeedFullParse`, so it can never pass for a value."""

    __slots__ = ()

    def __str__(self) -> str:
        raise NeedFullParse("block scalar")

    def __eq__(self, other: object) -> bool:
        raise NeedFullParse("block scalar")

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return "<block scalar>"


UNREAD: Any = _Unread()


class Verbatim(str):
    """Scalar text to be written exactly as it was read: a plain scalar that is not a string
    (``8080``, ``true``, ``0644``, ``2024-01-02``), so that every YAML reader takes it for
    what it took the original for."""

    __slots__ = ()


class Node:
    __slots__ = ("anchor", "end", "flow", "kind", "start", "style", "tag", "value")

    def __init__(
        self,
        kind: str,
        tag: str | None,
        value: Any,
        start: int,
        end: int,
        style: str | None = None,
        flow: bool = False,
        anchor: str | None = None,
    ) -> None:
        self.kind = kind
        self.tag = tag
        self.value = value
        self.start = start
        self.end = end
        self.style = style  # scalars: None (plain), "'", '"', "|" or ">"
        self.flow = flow  # collections: written in flow style ([...], {...})
        self.anchor = anchor

    def __repr__(self) -> str:
        return f"Node({self.kind}, {self.start}-{self.end})"
