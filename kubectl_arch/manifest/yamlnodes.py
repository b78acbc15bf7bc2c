"""Parsed YAML with positions: composition of one span of text into nodes with marks,
conversion of small subtrees to plain data, and navigation by key.

Scalars are resolved with YAML 1.1 rules, as the Kubernetes API server reads them, so an
``image: yes`` is seen as the boolean it is for kubectl. ruamel.yaml is imported here, and
only when a document actually has to be parsed.
"""

from __future__ import annotations

import re
from typing import Any

from . import fastyaml
from .fastyaml import PLAIN_TAG, NeedFullParse

__all__ = ["NeedFullParse", "Parsed", "compose", "tag", "to_data"]

STR_TAG = "tag:yaml.org,2002:str"
NULL_TAG = "tag:yaml.org,2002:null"
BOOL_TAG = "tag:yaml.org,2002:bool"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
MAX_NODES = 100_000  # conversion budget: bounds alias expansion ("billion laughs")

# YAML 1.1 implicit types of plain scalars, as the Kubernetes API server (go-yaml v2) reads
# them: "yes", "on" and "y" are booleans, 0644 is an octal number, "~" is null.
_YAML11 = (
    (NULL_TAG, r"~|null|Null|NULL|"),
    (BOOL_TAG, r"y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"),
    (INT_TAG, r"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
              r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+"),
    (FLOAT_TAG, r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)[eE][-+]?[0-9]+"
                r"|\.[0-9_]+(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*"
                r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"),
    (TIMESTAMP_TAG, r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}"
                    r"(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?"),
)  # fmt: skip
_implicit: list[tuple[str, re.Pattern[str]]] = []


_NULL_WORDS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOL_WORDS = frozenset(_YAML11[1][1].split("|"))


def resolve_plain(value: str) -> str:
    """The YAML 1.1 tag of a plain scalar."""
    if value in _NULL_WORDS:
        return NULL_TAG
    if value in _BOOL_WORDS:
        return BOOL_TAG
    if value[0] not in "0123456789+-.":  # numbers and timestamps start with one of these
        return STR_TAG
    if not _implicit:
        _implicit.extend((tag, re.compile(pattern)) for tag, pattern in _YAML11)
    for tag_name, pattern in _implicit:
        if pattern.fullmatch(value):
            return tag_name
    return STR_TAG


def tag(node: Any) -> str:
    """A node's tag, plain scalars resolved with YAML 1.1 rules."""
    node_tag = str(node.tag)
    return resolve_plain(str(node.value)) if node_tag == PLAIN_TAG else node_tag


class YamlSyntaxError(ValueError):
    """Invalid YAML; ``line`` and ``column`` are 1-based positions in the whole text."""

    def __init__(self, problem: str, line: int, column: int) -> None:
        super().__init__(f"line {line}, column {column}: {problem}")
        self.problem, self.line, self.column = problem, line, column


class YamlShapeError(ValueError):
    """Valid YAML that pin cannot use as it is (wrong type, alias loop, merge key...)."""


_loader: Any = None


def _yaml() -> Any:
    global _loader
    if _loader is None:
        from ruamel.yaml import YAML
        from ruamel.yaml.nodes import MappingNode, ScalarNode
        from ruamel.yaml.resolver import VersionedResolver

        try:  # ruamel.yaml >= 0.18 wants Tag objects, older releases strings
            from ruamel.yaml.tag import Tag

            plain: Any = Tag(suffix=PLAIN_TAG)
            quoted: Any = Tag(suffix=STR_TAG)
        except ImportError:  # pragma: no cover
            plain, quoted = PLAIN_TAG, STR_TAG

        class Resolver(VersionedResolver):  # type: ignore[misc]
            """Tags plain scalars PLAIN_TAG, like fastyaml: typed lazily by ``tag()``."""

            def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
                if kind is ScalarNode:
                    return plain if implicit[0] else quoted
                return self.DEFAULT_MAPPING_TAG if kind is MappingNode else self.DEFAULT_SEQUENCE_TAG

        _loader = YAML(typ="safe", pure=True)
        _loader.Resolver = Resolver
        _loader.version = (1, 1)
    return _loader


class Parsed:
    """A span of ``text`` parsed into nodes whose marks are relative to ``offset``."""

    def __init__(self, text: str, offset: int, stop: int, root: Any) -> None:
        self.text = text
        self.offset = offset
        self.stop = stop
        self.root = root

    def start(self, node: Any) -> int:
        return int(node.start_mark.index) + self.offset

    def end(self, node: Any) -> int:
        return int(node.end_mark.index) + self.offset


def compose(text: str, start: int, end: int, full: bool = False) -> Parsed:
    """Parse ``text[start:end]``, which holds at most one YAML document.

    The fast reader handles plain block-style manifests; anything else, or ``full``, goes
    to ruamel.yaml, which is only imported then.
    """
    if not full:
        try:
            return Parsed(text, start, end, fastyaml.parse(text, start, end))
        except fastyaml.Unsupported:
            pass
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    chunk = text[start:end]
    line_base = text.count("\n", 0, start)
    try:
        root = _yaml().compose(chunk)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            problem = f"{exc.problem} ({exc.context})"
        line = mark.line if mark is not None else 0
        column = mark.column if mark is not None else 0
        raise YamlSyntaxError(problem, line_base + line + 1, column + 1) from None
    except YAMLError as exc:  # reader errors: non-printable characters and the like
        message = str(exc).splitlines()[0]
        position = getattr(exc, "position", None)
        if isinstance(position, int):
            line = line_base + chunk.count("\n", 0, position) + 1
            column = position - (chunk.rfind("\n", 0, position) + 1) + 1
            raise YamlSyntaxError(message, line, column) from None
        raise YamlSyntaxError(message, line_base + 1, 1) from None
    except RecursionError:
        raise YamlShapeError("document nests too deeply") from None
    return Parsed(text, start, end, root)


def is_mapping(node: Any) -> bool:
    return node is not None and node.id == "mapping"


def is_sequence(node: Any) -> bool:
    return node is not None and node.id == "sequence"


def is_scalar(node: Any) -> bool:
    return node is not None and node.id == "scalar"


def is_null(node: Any) -> bool:
    return is_scalar(node) and tag(node) == NULL_TAG


def is_string(node: Any) -> bool:
    return is_scalar(node) and tag(node) == STR_TAG


def describe(node: Any) -> str:
    if node is None:
        return "nothing"
    if is_scalar(node):
        return {
            BOOL_TAG: "a boolean",
            INT_TAG: "a number",
            FLOAT_TAG: "a number",
            NULL_TAG: "null",
            TIMESTAMP_TAG: "a timestamp",
        }.get(tag(node), "a string")
    return "a mapping" if is_mapping(node) else "a list"


def entries(mapping: Any) -> list[tuple[Any, Any]]:
    return list(mapping.value)


def find(mapping: Any, key: str) -> tuple[Any, Any] | None:
    """The (key node, value node) for ``key``; errors on duplicate and merge keys."""
    found = None
    for k, v in mapping.value:
        if not is_scalar(k):
            continue
        if k.value == "<<" and k.tag == PLAIN_TAG:
            raise YamlShapeError("merge keys (<<) are not supported here")
        if k.value == key:
            if found is not None:
                raise YamlShapeError(f"duplicate key {key!r}")
            found = (k, v)
    return found


def is_alias_value(key: Any, value: Any) -> bool:
    """Whether a mapping value is an alias (``*name``): its node was defined earlier."""
    return int(value.start_mark.index) < int(key.end_mark.index)


def typed_scalar(node: Any) -> Any:
    """A scalar's value as YAML 1.1 types it: None, bool, int, float or str."""
    node_tag, text = tag(node), str(node.value)
    if node_tag == NULL_TAG:
        return None
    if node_tag == BOOL_TAG:
        return text.lower() in ("y", "yes", "true", "on")
    if node_tag == INT_TAG:
        digits = text.replace("_", "")
        sign = -1 if digits.startswith("-") else 1
        digits = digits.lstrip("+-")
        try:
            if digits.startswith(("0x", "0b", "0o")):
                return sign * int(digits, 0)
            if digits.startswith("0") and len(digits) > 1:
                return sign * int(digits, 8)
            return sign * int(digits)
        except ValueError:
            return text
    if node_tag == FLOAT_TAG:
        try:
            return float(text.replace("_", ""))
        except ValueError:
            return text
    return text


def _start(node: Any) -> int:
    return int(node.start_mark.index)


def to_data(
    node: Any,
    budget: list[int] | None = None,
    typed: bool = False,
    raw: Parsed | None = None,
    _active: set[int] | None = None,
    _aliased: bool = False,
) -> Any:
    """Plain data for a subtree: dict/list/scalars. Scalars are their text (None for null),
    or YAML 1.1 typed values when ``typed``. With ``raw``, a block scalar whose value the fast
    reader did not compute is ``("raw", its source text)`` instead of an error.

    Bounded by a budget of nodes expanded from aliases (alias bombs: a plain document costs
    nothing, however large) and refusing recursive aliases. A node reached through an alias
    is one that starts before the place it is used.
    """
    if budget is None:
        budget = [MAX_NODES]
    if _active is None:
        _active = set()
    if _aliased:
        budget[0] -= 1
        if budget[0] < 0:
            raise YamlShapeError("document expands to too many nodes (YAML alias bomb?)")
    if is_scalar(node):
        try:
            if typed:
                return typed_scalar(node)
            return None if tag(node) == NULL_TAG else str(node.value)
        except NeedFullParse:
            if raw is None:
                raise
            return ("raw", raw.text[raw.start(node) : raw.end(node)])
    if id(node) in _active:
        raise YamlShapeError("recursive YAML alias")
    _active.add(id(node))
    try:
        if is_sequence(node):
            items = []
            cursor = _start(node)
            for index, item in enumerate(node.value):
                start = _start(item)
                # An alias of the item just before starts where that item starts.
                aliased = start < cursor or (index > 0 and start == cursor)
                items.append(to_data(item, budget, typed, raw, _active, _aliased or aliased))
                cursor = max(cursor, start)
            return items
        result: dict[str, Any] = {}
        for k, v in node.value:
            if not is_scalar(k):
                raise YamlShapeError("mapping keys must be strings")
            if k.value == "<<" and k.tag == PLAIN_TAG:
                raise YamlShapeError("merge keys (<<) are not supported here")
            if k.value in result:
                raise YamlShapeError(f"duplicate key {k.value!r}")
            aliased = _aliased or is_alias_value(k, v)
            result[str(k.value)] = to_data(v, budget, typed, raw, _active, aliased)
        return result
    finally:
        _active.discard(id(node))
