"""Parsed YAML with positions: one span of text read into nodes (:mod:`.node`), navigation by
key with aliases and merge keys resolved, and conversion of subtrees to plain data.

Reading follows what kubectl does with a manifest (sigs.k8s.io/yaml over go-yaml v2):

* plain scalars are typed with YAML 1.1 rules, so an ``image: yes`` is the boolean it is for
  the API server;
* an alias (``*name``) stands for the node its anchor names;
* a merge key (``<<: *base``, or ``<<: [*a, *b]``) merges mappings into the one holding it,
  entries applied in document order: a merge sets the keys it brings (over keys set before
  it), a key written after it overrides it, and of a list of mappings the first wins.

The fast reader (:mod:`.fastyaml`) serves plain block-style documents; any other document,
or one whose block scalar values are needed, is read by the full reader (:mod:`.fullyaml`,
ruamel.yaml's parser, imported only then).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from . import fastyaml, yamltext
from .node import (
    ALIAS,
    MAP_TAG,
    MAPPING,
    PLAIN_TAG,
    SCALAR,
    SEQ_TAG,
    SEQUENCE,
    STR_TAG,
    UNREAD,
    NeedFullParse,
    Node,
    Verbatim,
    YamlShapeError,
    YamlSyntaxError,
)

__all__ = [
    "NeedFullParse",
    "Node",
    "Parsed",
    "YamlShapeError",
    "YamlSyntaxError",
    "compose",
    "find",
    "tag",
    "to_data",
]

NULL_TAG = "tag:yaml.org,2002:null"
BOOL_TAG = "tag:yaml.org,2002:bool"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
MERGE_TAG = "tag:yaml.org,2002:merge"

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


def deref(node: Any) -> Any:
    """The node an alias names; any other node (or None) as it is."""
    return node.value if node is not None and node.kind == ALIAS else node


def tag(node: Any) -> str:
    """A node's tag, plain scalars resolved with YAML 1.1 rules."""
    node = deref(node)
    if node.tag == PLAIN_TAG:
        return resolve_plain(node.value)
    return str(node.tag)


class Parsed:
    """One span of ``text`` (``start`` to ``stop``) read into nodes; ``full`` when the full
    reader read it. Node positions index ``text``."""

    __slots__ = ("full", "root", "start", "stop", "text")

    def __init__(self, text: str, start: int, stop: int, root: Node | None, full: bool = False) -> None:
        self.text = text
        self.start = start
        self.stop = stop
        self.root = root
        self.full = full


def compose(text: str, start: int, end: int, full: bool = False) -> Parsed:
    """Read ``text[start:end]``, which holds at most one YAML document.

    The fast reader handles plain block-style manifests; anything else, or ``full``, goes
    to the full reader. Raises :class:`YamlSyntaxError` (invalid YAML, with the line and
    column in ``text``).
    """
    if yamltext.has_odd_breaks(text, start, end):  # read as kubectl does: each is a line break
        text = yamltext.normalise_breaks(text)
    if not full:
        try:
            return Parsed(text, start, end, fastyaml.parse(text, start, end))
        except fastyaml.Unsupported:
            pass
    from . import fullyaml

    return Parsed(text, start, end, fullyaml.compose(text, start, end), True)


def is_mapping(node: Any) -> bool:
    return node is not None and deref(node).kind == MAPPING


def is_sequence(node: Any) -> bool:
    return node is not None and deref(node).kind == SEQUENCE


def is_scalar(node: Any) -> bool:
    return node is not None and deref(node).kind == SCALAR


def is_null(node: Any) -> bool:
    return is_scalar(node) and tag(node) == NULL_TAG


def is_string(node: Any) -> bool:
    return is_scalar(node) and tag(node) == STR_TAG


def is_merge_key(key: Any) -> bool:
    """Whether a mapping key is the merge key ``<<`` (plain, or tagged ``!!merge``)."""
    return key.kind == SCALAR and (
        (key.tag == PLAIN_TAG and key.value == "<<") or (key.tag == MERGE_TAG and key.value == "<<")
    )


def text(node: Any) -> str:
    """A scalar's text as written (after unescaping, folding...); raises NeedFullParse for a
    block scalar the fast reader did not compute."""
    value = deref(node).value
    if value is UNREAD:
        raise NeedFullParse("block scalar")
    return str(value)


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


class Entry(NamedTuple):
    """One key of a mapping as it reads: ``value`` as written (an alias stays an alias),
    ``merge`` the ``<<`` key node it came through (None for a key of the mapping itself)."""

    key: Node
    value: Node
    merge: Node | None = None


def _merge_sources(key: Node, value: Node) -> list[Node]:
    """The mappings a merge key brings, in the order they apply (the last applied wins)."""
    value = deref(value)
    if value.kind == MAPPING:
        return [value]
    if value.kind == SEQUENCE:
        sources = [deref(item) for item in value.value]
        if all(s.kind == MAPPING for s in sources):
            return sources[::-1]  # of a list of mappings, the first wins
    raise YamlShapeError("a merge key (<<) must name a mapping or a list of mappings")


def effective(mapping: Node, _depth: int = 0) -> dict[str, Entry]:
    """A mapping's keys as they read, merge keys applied (see the module docstring).

    Raises YamlShapeError for a key that is not a scalar, a key written twice, and merges
    nested too deeply (a merge loop)."""
    mapping = deref(mapping)
    out: dict[str, Entry] = {}
    own: set[str] = set()
    for key, value in mapping.value:
        if key.kind != SCALAR:
            raise YamlShapeError("mapping keys must be strings (a complex key: ? ...)")
        if is_merge_key(key):
            if _depth > 50:
                raise YamlShapeError("merge keys (<<) nest too deeply")
            for source in _merge_sources(key, value):
                for name, entry in effective(source, _depth + 1).items():
                    out[name] = Entry(entry.key, entry.value, key)
            continue
        name = text(key)
        if name in own:
            raise YamlShapeError(f"duplicate key {name!r}")
        own.add(name)
        out[name] = Entry(key, value)
    return out


def has_merge(mapping: Node) -> bool:
    return any(is_merge_key(k) for k, _ in deref(mapping).value)


def find(mapping: Any, key: str) -> Entry | None:
    """The entry for ``key`` as it reads (merge keys applied); errors on duplicate keys."""
    if mapping.kind == ALIAS:
        mapping = mapping.value
    found = None
    merged = False
    for k, v in mapping.value:
        value = k.value
        if value == key and k.kind == SCALAR:
            if found is not None:
                raise YamlShapeError(f"duplicate key {key!r}")
            found = Entry(k, v)
        elif value == "<<" and is_merge_key(k):
            merged = True
    if merged:
        return effective(mapping).get(key)
    return found


def entries(mapping: Any) -> list[Entry]:
    """Every key of a mapping as it reads, in the order they are written."""
    mapping = deref(mapping)
    if not has_merge(mapping):
        return [Entry(k, v) for k, v in mapping.value]
    return list(effective(mapping).values())


def typed_scalar(node: Any) -> Any:
    """A scalar's value as YAML 1.1 types it: None, bool, int, float or str."""
    node_tag, value = tag(node), text(node)
    if node_tag == NULL_TAG:
        return None
    if node_tag == BOOL_TAG:
        return value.lower() in ("y", "yes", "true", "on")
    if node_tag == INT_TAG:
        digits = value.replace("_", "")
        sign = -1 if digits.startswith("-") else 1
        digits = digits.lstrip("+-")
        try:
            if ":" in digits:  # sexagesimal, 1:30 == 90
                total = 0
                for part in digits.split(":"):
                    total = total * 60 + int(part)
                return sign * total
            if digits.startswith(("0x", "0b", "0o")):
                return sign * int(digits, 0)
            if digits.startswith("0") and len(digits) > 1:
                return sign * int(digits, 8)
            return sign * int(digits)
        except ValueError:
            return value
    if node_tag == FLOAT_TAG:
        lowered = value.replace("_", "").lower()
        if lowered.endswith(".inf"):
            return float("-inf") if lowered.startswith("-") else float("inf")
        if lowered == ".nan":
            return float("nan")
        try:
            return float(lowered) if ":" not in lowered else value
        except ValueError:
            return value
    return value


RENDER = "render"


def to_data(
    node: Any, budget: list[int] | None = None, typed: bool | str = False, source: str | None = None
) -> Any:
    """Plain data for a subtree: dict/list/scalars, aliases and merge keys resolved. Scalars
    are their text (None for null), or YAML 1.1 typed values when ``typed``, or, with
    ``typed=RENDER``, strings and :class:`.node.Verbatim` text for every other scalar (what
    writing the subtree out again needs to keep each value's type for every reader).

    A block scalar whose value the fast reader left uncomputed raises NeedFullParse, or, given
    the ``source`` text the node was read from, stands as ``("block scalar", its text)``: to
    tell whether two readings of unchanged text agree, its text is enough.

    Bounded as go-yaml bounds aliases (:func:`allowed_alias_ratio`; ``budget``, from
    :func:`new_budget`, counts the nodes converted and those reached through aliases, and may
    be shared by several calls on one document; alias bombs: YamlShapeError), refusing
    recursive aliases, keys that are not scalars and duplicate keys (YamlShapeError), and
    deep nesting.
    """
    if budget is None:
        budget = new_budget()
    try:
        return _to_data(node, budget, typed, set(), source, False)
    except RecursionError:
        raise YamlShapeError("document nests too deeply") from None


def _to_data(
    node: Node, budget: list[int], typed: bool | str, active: set[int], source: str | None, aliased: bool
) -> Any:
    if node.kind == ALIAS:
        node, aliased = node.value, True
    budget[0] += 1
    if aliased:
        budget[1] += 1
        if budget[1] > 100 and _excessive(budget[1], budget[0]):
            raise YamlShapeError(EXCESSIVE)
    if node.kind == SCALAR:
        if typed == RENDER:
            return _render_scalar(node)
        if typed:
            return typed_scalar(node)
        if node.tag == PLAIN_TAG and node.value in _NULL_WORDS:
            return None
        value = node.value
        if value is UNREAD:
            if source is None:
                raise NeedFullParse("block scalar")
            return ("block scalar", source[node.start : node.end].rstrip())
        return None if node.tag == NULL_TAG else value
    if id(node) in active:
        raise YamlShapeError("recursive YAML alias")
    active.add(id(node))
    try:
        if node.kind == SEQUENCE:
            return [_to_data(item, budget, typed, active, source, aliased) for item in node.value]
        result: dict[str, Any] = {}
        merged = False
        for k, v in node.value:
            if k.kind != SCALAR:
                raise YamlShapeError("mapping keys must be strings (a complex key: ? ...)")
            if is_merge_key(k):
                merged = True
                break
            name = text(k)
            if name in result:
                raise YamlShapeError(f"duplicate key {name!r}")
            result[_key(k, name, typed)] = _to_data(v, budget, typed, active, source, aliased)
        if merged:
            result = {
                _key(entry.key, name, typed): _to_data(entry.value, budget, typed, active, source, aliased)
                for name, entry in effective(node).items()
            }
        return result
    finally:
        active.discard(id(node))


def _key(key: Node, name: str, typed: bool | str) -> str:
    """A mapping key as data; for rendering, a plain key that YAML 1.1 does not read as a
    string (``on``, ``1``) is written back as it was, so that it keeps its meaning."""
    if typed == RENDER and deref(key).tag == PLAIN_TAG and resolve_plain(name) != STR_TAG:
        return Verbatim(name)
    return name


def _render_scalar(node: Node) -> Any:
    node_tag = tag(node)
    value = text(node)
    if node_tag == STR_TAG:
        return value
    if node_tag == NULL_TAG:
        return None
    if node.tag == PLAIN_TAG:
        return Verbatim(value)
    typed = typed_scalar(node)  # "!!int '3'": written plain, it reads as the same value
    if isinstance(typed, bool | int | float) and node_tag != TIMESTAMP_TAG:
        return Verbatim(value if resolve_plain(value) == node_tag else _canonical(typed))
    return value


def float_text(value: float) -> str:
    """A float as a plain scalar every YAML reader takes for that float (YAML 1.1 wants a
    dot: ``1.0e+20``, ``.inf``, ``.nan``)."""
    if value != value:
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    return text if "." in text else text.replace("e", ".0e", 1)


def _canonical(value: bool | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return float_text(value)


def walk(node: Node | None) -> Iterator[Node]:
    """Every node of a tree once, in document order (an alias is visited, not followed)."""
    if node is None:
        return
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if current.kind == SEQUENCE:
            stack.extend(reversed(current.value))
        elif current.kind == MAPPING:
            for k, v in reversed(current.value):
                stack.append(v)
                stack.append(k)


# go-yaml's rule against alias bombs (gopkg.in/yaml.v2 and v3 decode.go, which kubectl reads
# manifests with): once more than 100 of the nodes decoded came through aliases and more than
# 1,000 were decoded, their share may not pass 99% up to 400,000 decoded nodes, a share that
# falls linearly to 10% at 4,000,000 and stays there.
ALIAS_RATIO_LOW = 400_000
ALIAS_RATIO_HIGH = 4_000_000


def allowed_alias_ratio(decoded: int) -> float:
    """The share of ``decoded`` nodes that may come through aliases (go-yaml's allowedAliasRatio)."""
    if decoded <= ALIAS_RATIO_LOW:
        return 0.99
    if decoded >= ALIAS_RATIO_HIGH:
        return 0.10
    return 0.99 - 0.89 * (decoded - ALIAS_RATIO_LOW) / (ALIAS_RATIO_HIGH - ALIAS_RATIO_LOW)


def _excessive(aliased: int, decoded: int) -> bool:
    return aliased > 100 and decoded > 1000 and aliased / decoded > allowed_alias_ratio(decoded)


EXCESSIVE = "document contains excessive aliasing (a YAML alias bomb?)"
_CAP = 1 << 40  # sizes beyond this are all "too many"


def new_budget() -> list[int]:
    """A :func:`to_data` budget: [nodes converted, nodes reached through aliases]."""
    return [0, 0]


def check_aliasing(root: Node | None) -> None:
    """Refuse a tree that go-yaml (and so kubectl) would refuse as excessive aliasing, with
    its rule (:func:`allowed_alias_ratio`), counting nodes as its decoder visits them (keys,
    values, items, alias nodes; an alias's target once more for each alias) in document
    order. Linear in the tree, never expanding it: a subtree's size is computed once.
    Raises YamlShapeError for excessive aliasing and for a recursive alias."""
    if root is None:
        return
    sizes = _sizes(root)
    decoded = aliased = 0
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        decoded += 1
        if node.kind == ALIAS:
            size = sizes[id(node.value)]
            decoded += size
            aliased += size
            if _excessive(aliased, decoded):
                raise YamlShapeError(EXCESSIVE)
            continue
        if aliased > 100 and _excessive(aliased, decoded):
            raise YamlShapeError(EXCESSIVE)
        if node.kind == SEQUENCE:
            stack.extend(reversed(node.value))
        elif node.kind == MAPPING:
            for k, v in reversed(node.value):
                stack.append(v)
                if not is_merge_key(k):
                    stack.append(k)


def _sizes(root: Node) -> dict[int, int]:
    """Nodes decoded for each collection and scalar of the tree (aliases expanded, capped),
    by id. Raises YamlShapeError for a recursive alias."""
    sizes: dict[int, int] = {}
    state: dict[int, int] = {}  # 1 in progress, 2 done
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if node.kind == ALIAS:
            node = node.value
        key = id(node)
        if done:
            total = 1
            if node.kind == SEQUENCE:
                children: list[Node] = node.value
            elif node.kind == MAPPING:
                children = [n for k, v in node.value for n in ((v,) if is_merge_key(k) else (k, v))]
            else:
                children = []
            for child in children:
                total += sizes[id(deref(child))] + (child.kind == ALIAS)
            sizes[key] = min(total, _CAP)
            state[key] = 2
            continue
        seen = state.get(key)
        if seen == 2:
            continue
        if seen == 1:
            raise YamlShapeError("recursive YAML alias")
        state[key] = 1
        stack.append((node, True))
        if node.kind == SEQUENCE:
            stack.extend((child, False) for child in node.value)
        elif node.kind == MAPPING:
            stack.extend((n, False) for pair in node.value for n in pair)
    return sizes


def from_data(value: Any) -> Node:
    """A node tree for plain data as JSON decodes it (an API server's object): strings are
    quoted scalars (so ``"yes"`` stays a string), booleans, numbers and null plain scalars
    in the form YAML 1.1 types as the same value; keys are strings. What the reader of
    :mod:`.scan` reads from a manifest, it then reads the same way from the object."""
    if isinstance(value, str):
        return Node(SCALAR, STR_TAG, value, 0, 0, '"')
    if isinstance(value, dict):
        pairs = [(Node(SCALAR, STR_TAG, str(k), 0, 0, '"'), from_data(v)) for k, v in value.items()]
        return Node(MAPPING, MAP_TAG, pairs, 0, 0, flow=True)
    if isinstance(value, list):
        return Node(SEQUENCE, SEQ_TAG, [from_data(v) for v in value], 0, 0, flow=True)
    if value is None:
        return Node(SCALAR, PLAIN_TAG, "null", 0, 0)
    if isinstance(value, bool | int | float):
        return Node(SCALAR, PLAIN_TAG, _canonical(value), 0, 0)
    raise YamlShapeError(f"a value of type {type(value).__name__} is not JSON data")
