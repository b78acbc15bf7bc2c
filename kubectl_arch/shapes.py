"""The one wording of a value of the wrong type in the input, in YAML's type names:
``spec.nodeSelector is a list, not a mapping``. The manifest reader says it of YAML nodes
(:func:`.manifest.yamlnodes.describe`); the pure transforms (affinity, node selectors,
tolerations) of plain data, with :func:`describe`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def describe(value: Any) -> str:
    """YAML's name for a plain data value, with its article: ``a mapping``, ``a list``,
    ``a string``, ``a number``, ``a boolean``, ``null`` (a scalar kept as written, as
    :class:`.manifest.node.Verbatim`, by the type its plain text resolves to)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str) and type(value) is not str:  # plain text that is not a string
        from .manifest import yamlnodes as yn

        return {
            yn.BOOL_TAG: "a boolean",
            yn.INT_TAG: "a number",
            yn.FLOAT_TAG: "a number",
            yn.NULL_TAG: "null",
            yn.TIMESTAMP_TAG: "a timestamp",
        }.get(yn.resolve_plain(value), "a string")
    return "a string" if isinstance(value, str) else "a value"


def wrong(value: Any, need: str) -> str:
    """``is a list, not a mapping``: what follows the field's name."""
    return f"is {describe(value)}, not {need}"


def joined(field: str, why: str) -> str:
    """``field is a list, not a mapping`` for a shape message (:func:`wrong`), else
    ``field: why``."""
    if not field:
        return why
    return f"{field} {why}" if why.startswith("is ") else f"{field}: {why}"
