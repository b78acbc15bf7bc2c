"""Compare the node trees of kubectl_arch.manifest.fastyaml and the full reader, node for node."""

from __future__ import annotations

from typing import Any

from kubectl_arch.manifest import fullyaml
from kubectl_arch.manifest.node import UNREAD


def readers() -> list[str]:
    """The full reader's parsers installed here: ruamel.yaml always, libyaml when PyYAML has
    its C extension."""
    try:
        fullyaml.parser(fullyaml.LIBYAML)
    except (ImportError, AttributeError):
        return [fullyaml.RUAMEL]
    return [fullyaml.RUAMEL, fullyaml.LIBYAML]


def full_compose(text: str, reader: str = fullyaml.RUAMEL) -> Any:
    """The full reader's tree of a one-document text, with the parser named."""
    return fullyaml.compose(text, 0, len(text), reader)


def _empty(node: Any) -> bool:
    return node.kind == "scalar" and node.style is None and node.value == "" and node.anchor is None


def differences(fast: Any, full: Any, path: str = "$", empty_positions: bool = True) -> list[str]:
    """Where two node trees disagree (structure, values, styles, positions); empty if they agree.

    Without ``empty_positions``, where a value written as nothing is placed does not count
    (parsers differ there, and editing never relies on it)."""
    out: list[str] = []
    if fast is None or full is None:
        return [] if fast is full else [f"{path}: {fast!r} vs {full!r}"]
    if fast.kind != full.kind:
        return [f"{path}: {fast.kind} vs {full.kind}"]
    if not empty_positions and _empty(fast) and _empty(full):
        return []
    if fast.start != full.start:
        out.append(f"{path}: start {fast.start} vs {full.start}")
    block = fast.kind != "scalar" and not fast.flow  # its end is its last child's
    if fast.end != full.end and (empty_positions or not block):
        out.append(f"{path}: end {fast.end} vs {full.end}")
    if fast.tag != full.tag:
        out.append(f"{path}: tag {fast.tag} vs {full.tag}")
    if fast.kind == "alias":  # the same anchored node, by where it is
        if (fast.value.start, fast.value.kind) != (full.value.start, full.value.kind):
            out.append(f"{path}: alias of the node at {fast.value.start} vs {full.value.start}")
        return out
    if fast.anchor != full.anchor:
        out.append(f"{path}: anchor {fast.anchor!r} vs {full.anchor!r}")
    if fast.kind == "scalar":
        if fast.style != full.style:
            out.append(f"{path}: style {fast.style!r} vs {full.style!r}")
        if fast.value is not UNREAD and fast.value != full.value:
            out.append(f"{path}: value {fast.value!r} vs {full.value!r}")
        return out
    if fast.flow != full.flow:
        out.append(f"{path}: flow style differs")
    if len(fast.value) != len(full.value):
        return [*out, f"{path}: {len(fast.value)} vs {len(full.value)} children"]
    if fast.kind == "sequence":
        for i, (a, b) in enumerate(zip(fast.value, full.value, strict=True)):
            out.extend(differences(a, b, f"{path}[{i}]", empty_positions))
    else:
        for (ka, va), (kb, vb) in zip(fast.value, full.value, strict=True):
            out.extend(differences(ka, kb, f"{path}.<key>", empty_positions))
            out.extend(differences(va, vb, f"{path}.{kb.value}", empty_positions))
    return out
