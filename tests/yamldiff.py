"""Compare kubectl_arch.manifest.fastyaml's node trees with ruamel.yaml's, mark for mark."""

from __future__ import annotations

from typing import Any

from kubectl_arch.manifest import fastyaml


def ruamel_compose(text: str) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).compose(text)


def differences(fast: Any, full: Any, path: str = "$") -> list[str]:
    """Where two node trees disagree (structure, values, styles, marks); empty if they agree."""
    out: list[str] = []
    if fast is None or full is None:
        return [] if fast is full else [f"{path}: {fast!r} vs {full!r}"]
    if fast.id != full.id:
        return [f"{path}: {fast.id} vs {full.id}"]
    if fast.start_mark.index != full.start_mark.index:
        out.append(f"{path}: start {fast.start_mark.index} vs {full.start_mark.index}")
    if fast.start_mark.line != full.start_mark.line or fast.start_mark.column != full.start_mark.column:
        out.append(f"{path}: start line/column differ")
    if fast.id == "scalar":
        if fast.end_mark.index != full.end_mark.index:
            out.append(f"{path}: end {fast.end_mark.index} vs {full.end_mark.index}")
        if fast.style != full.style:
            out.append(f"{path}: style {fast.style!r} vs {full.style!r}")
        try:
            value = fast.value
        except fastyaml.NeedFullParse:
            value = None
        if value is not None and value != full.value:
            out.append(f"{path}: value {value!r} vs {full.value!r}")
        return out
    if fast.flow_style != bool(full.flow_style):
        out.append(f"{path}: flow style differs")
    if fast.flow_style and fast.end_mark.index != full.end_mark.index:
        out.append(f"{path}: end {fast.end_mark.index} vs {full.end_mark.index}")
    if len(fast.value) != len(full.value):
        return [*out, f"{path}: {len(fast.value)} vs {len(full.value)} children"]
    if fast.id == "sequence":
        for i, (a, b) in enumerate(zip(fast.value, full.value, strict=True)):
            out.extend(differences(a, b, f"{path}[{i}]"))
    else:
        for (ka, va), (kb, vb) in zip(fast.value, full.value, strict=True):
            out.extend(differences(ka, kb, f"{path}.<key>"))
            out.extend(differences(va, vb, f"{path}.{kb.value}"))
    return out
