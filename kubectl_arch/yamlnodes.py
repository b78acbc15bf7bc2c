"""Parsed YAML with positions: composition of one span of text into nodes with marks,
conversion of small subtrees to plain data, and navigation by key.

Scalars are resolved with YAML 1.1 rules, as the Kubernetes API server reads them, so an
``image: yes`` is seen as the boolean it is for kubectl. ruamel.yaml is imported here, and
only when a document actually has to be parsed.
"""

from __future__ import annotations

from typing import Any

STR_TAG = "tag:yaml.org,2002:str"
NULL_TAG = "tag:yaml.org,2002:null"
MAX_NODES = 100_000  # conversion budget: bounds alias expansion ("billion laughs")


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

        _loader = YAML(typ="safe", pure=True)
        _loader.version = (1, 1)
    return _loader


class Parsed:
    """A span of ``text`` parsed into nodes whose marks are relative to ``offset``."""

    def __init__(self, text: str, offset: int, root: Any) -> None:
        self.text = text
        self.offset = offset
        self.root = root

    def start(self, node: Any) -> int:
        return int(node.start_mark.index) + self.offset

    def end(self, node: Any) -> int:
        return int(node.end_mark.index) + self.offset


def compose(text: str, start: int, end: int) -> Parsed:
    """Parse ``text[start:end]``, which holds at most one YAML document."""
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
    return Parsed(text, start, root)


def is_mapping(node: Any) -> bool:
    return node is not None and node.id == "mapping"


def is_sequence(node: Any) -> bool:
    return node is not None and node.id == "sequence"


def is_scalar(node: Any) -> bool:
    return node is not None and node.id == "scalar"


def is_null(node: Any) -> bool:
    return is_scalar(node) and node.tag == NULL_TAG


def is_string(node: Any) -> bool:
    return is_scalar(node) and node.tag == STR_TAG


def describe(node: Any) -> str:
    if node is None:
        return "nothing"
    if is_scalar(node):
        return {
            "tag:yaml.org,2002:bool": "a boolean",
            "tag:yaml.org,2002:int": "a number",
            "tag:yaml.org,2002:float": "a number",
            NULL_TAG: "null",
            "tag:yaml.org,2002:timestamp": "a timestamp",
        }.get(node.tag, "a string")
    return "a mapping" if is_mapping(node) else "a list"


def entries(mapping: Any) -> list[tuple[Any, Any]]:
    return list(mapping.value)


def find(mapping: Any, key: str) -> tuple[Any, Any] | None:
    """The (key node, value node) for ``key``; errors on duplicate and merge keys."""
    found = None
    for k, v in mapping.value:
        if not is_scalar(k):
            continue
        if k.value == "<<" and k.tag == "tag:yaml.org,2002:merge":
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
    tag, text = node.tag, str(node.value)
    if tag == NULL_TAG:
        return None
    if tag == "tag:yaml.org,2002:bool":
        return text.lower() in ("y", "yes", "true", "on")
    if tag == "tag:yaml.org,2002:int":
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
    if tag == "tag:yaml.org,2002:float":
        try:
            return float(text.replace("_", ""))
        except ValueError:
            return text
    return text


def to_data(
    node: Any, budget: list[int] | None = None, typed: bool = False, _active: set[int] | None = None
) -> Any:
    """Plain data for a subtree: dict/list/scalars. Scalars are their text (None for null),
    or YAML 1.1 typed values when ``typed``.

    Bounded by a node budget (alias bombs) and refusing recursive aliases.
    """
    if budget is None:
        budget = [MAX_NODES]
    if _active is None:
        _active = set()
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlShapeError("document expands to too many nodes (YAML alias bomb?)")
    if is_scalar(node):
        if typed:
            return typed_scalar(node)
        return None if node.tag == NULL_TAG else str(node.value)
    if id(node) in _active:
        raise YamlShapeError("recursive YAML alias")
    _active.add(id(node))
    try:
        if is_sequence(node):
            return [to_data(item, budget, typed, _active) for item in node.value]
        result: dict[str, Any] = {}
        for k, v in node.value:
            if not is_scalar(k):
                raise YamlShapeError("mapping keys must be strings")
            if k.value == "<<" and k.tag == "tag:yaml.org,2002:merge":
                raise YamlShapeError("merge keys (<<) are not supported here")
            if k.value in result:
                raise YamlShapeError(f"duplicate key {k.value!r}")
            result[str(k.value)] = to_data(v, budget, typed, _active)
        return result
    finally:
        _active.discard(id(node))
