"""Compare the node trees of kubectl_arch.manifest.fastyaml and the full reader, node for node."""

from __future__ import annotations

from typing import Any

from kubectl_arch.manifest import fullyaml
from kubectl_arch.manifest.node import UNREAD


def full_compose(text: str) -> Any:
    """The full reader's tree of a one-document text (ruamel.yaml's parser underneath)."""
    return fullyaml.compose(text, 0, len(text))


def differences(fast: Any, full: Any, path: str = "$") -> list[str]:
    """Where two node trees disagree (structure, values, styles, positions); empty if they agree."""
    out: list[str] = []
    if fast is None or full is None:
        return [] if fast is full else [f"{path}: {fast!r} vs {full!r}"]
    if fast.kind != full.kind:
        return [f"{path}: {fast.kind} vs {full.kind}"]
    if fast.start != full.start:
        out.append(f"{path}: start {fast.start} vs {full.start}")
    if fast.end != full.end:
        out.append(f"{path}: end {fast.end} vs {full.end}")
    if fast.tag != full.tag:
        out.append(f"{path}: tag {fast.tag} vs {full.tag}")
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
            out.extend(differences(a, b, f"{path}[{i}]"))
    else:
        for (ka, va), (kb, vb) in zip(fast.value, full.value, strict=True):
            out.extend(differences(ka, kb, f"{path}.<key>"))
            out.extend(differences(va, vb, f"{path}.{kb.value}"))
    return out
