"""Splicing agrees with the data transform when the manifest shares nodes and uses every
scalar style: aliases into the pod spec, anchors on the nodes pin edits that other places use,
merge keys (``<<``) that bring the keys pin reads or writes, and block scalars (literal and
folded, every chomping and indentation indicator) in every field pin reads.

A Deployment with a random pod spec is written with such constructs chosen at random, pinned
(affinity, platform-taint tolerations and image rewrites), and read back with PyYAML. The pod
spec must read as the plan applied to the original, everything else (the other users of every
anchor included) must read exactly as before, no edit may be an internal error, and pinning
the result again must change nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_affinity_properties import PHASES, allowed_sets, pod_specs

from kubectl_arch import affinity, pin, tolerations
from kubectl_arch.manifest import scan as scanning
from kubectl_arch.manifest.workloads import Kinds
from kubectl_arch.platforms import Platform

_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9._/-]*")
_BLOCKABLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:-]*")
TAINTS = tolerations.ArchTaints(
    {},
    (
        tolerations.parse_arch_taint("kubernetes.io/arch=arm64:NoSchedule"),
        tolerations.parse_arch_taint("node.kubernetes.io/os=windows:NoSchedule"),
    ),
)
REWRITES = {"example.com/app:1": "example.com/app:1@sha256:" + "a" * 64}
BLOCK_HEADERS = ("|-", ">-", "|2-", ">2-", "|-2", ">-1")
# Block scalars outside the pod spec, with every header: (header, text, value).
FREE_BLOCKS = (
    ("|", "one\ntwo\n", "one\ntwo\n"),
    ("|+", "one\n\n", "one\n\n"),
    ("|-", "one\n", "one"),
    (">", "one\ntwo\n\nthree\n", "one two\nthree\n"),
    (">+", "one\n\n", "one\n\n"),
    (">-", "a\nb\n", "a b"),
    ("|2", " lead\n", " lead\n"),
    (">1-", "x\n", "x"),
)


class Shared:
    """A node written as an alias here, its anchor on a copy in ``x-defs`` (before ``spec``)."""

    def __init__(self, name: str, value: Any) -> None:
        self.name, self.value = name, value


class Anchored:
    """A node written here with an anchor that an alias in ``x-users`` (after ``spec``) uses."""

    def __init__(self, name: str, value: Any) -> None:
        self.name, self.value = name, value


class Merged:
    """A mapping written as ``<<: *name`` (the ``shared`` keys, in ``x-defs``) and its own keys."""

    def __init__(self, name: str, shared: dict[str, Any], own: dict[str, Any]) -> None:
        self.name, self.shared, self.own = name, shared, own


class Block:
    """A string written as a block scalar."""

    def __init__(self, header: str, value: str) -> None:
        self.header, self.value = header, value


def plain(value: Any) -> Any:
    """The data a wrapped tree stands for."""
    if isinstance(value, Shared | Anchored):
        return plain(value.value)
    if isinstance(value, Merged):
        return {**plain(value.shared), **plain(value.own)}
    if isinstance(value, Block):
        return value.value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class Sharer:
    """Wraps nodes of a pod spec at random (``draw`` decides), naming anchors uniquely."""

    def __init__(self, draw: st.DrawFn, rate: int) -> None:
        self.draw = draw
        self.rate = rate  # one node in ``rate`` gets wrapped, on average
        self.count = 0

    def name(self) -> str:
        self.count += 1
        return f"n{self.count}"

    def wrap(self, value: Any, depth: int = 0, free: bool = True) -> Any:
        """``free``: wrappers may go inside (not inside a copy that lives in x-defs)."""
        choice = self.draw(st.integers(0, self.rate)) if free else -1
        if isinstance(value, str) and value and _BLOCKABLE.fullmatch(value) and choice in (1, 2):
            return Block(self.draw(st.sampled_from(BLOCK_HEADERS)), value)
        if isinstance(value, dict | list) and value and choice == 0:
            return Shared(self.name(), self.wrap_children(value, depth, free=False))
        if isinstance(value, dict | list) and value and choice == 1:
            return Anchored(self.name(), self.wrap_children(value, depth, free))
        if isinstance(value, dict) and len(value) >= 1 and choice == 2:
            keys = list(value)
            cut = self.draw(st.integers(1, len(keys)))
            shared = {k: value[k] for k in keys[:cut]}
            own = {k: value[k] for k in keys[cut:]}
            return Merged(
                self.name(),
                self.wrap_children(shared, depth, free=False),
                self.wrap_children(own, depth, free),
            )
        return self.wrap_children(value, depth, free)

    def wrap_children(self, value: Any, depth: int, free: bool) -> Any:
        if isinstance(value, dict):
            return {k: self.wrap(v, depth + 1, free) for k, v in value.items()}
        if isinstance(value, list):
            return [self.wrap(v, depth + 1, free) for v in value]
        blockable = isinstance(value, str) and free and value and _BLOCKABLE.fullmatch(value)
        if blockable and self.draw(st.integers(0, self.rate)) == 0:
            return Block(self.draw(st.sampled_from(BLOCK_HEADERS)), value)
        return value


class Emitter:
    """Block YAML (flow where a block construct cannot go) with anchors, aliases, merges."""

    def __init__(self, indent: int, offset: int) -> None:
        self.indent, self.offset = indent, offset
        self.defs: list[str] = []  # lines of x-defs entries, in the order they must come
        self.users: list[str] = []  # aliases in x-users

    def scalar(self, value: Any) -> str:
        if value is None:
            return "null"
        if isinstance(value, bool | int):
            return json.dumps(value)
        if _PLAIN.fullmatch(value) and yaml.safe_load(value) == value:
            return value
        return json.dumps(value)

    def flow(self, value: Any) -> str:
        if isinstance(value, Shared):
            self.define(value)
            return f"*{value.name}"
        if isinstance(value, Anchored):
            self.users.append(value.name)
            return f"&{value.name} {self.flow(value.value)}"
        if isinstance(value, Merged):
            self.define(Shared(value.name, value.shared))
            own = ", ".join(f"{self.scalar(k)}: {self.flow(v)}" for k, v in value.own.items())
            return "{<<: *" + value.name + (", " + own if own else "") + "}"
        if isinstance(value, Block):
            return json.dumps(value.value)
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self.scalar(k)}: {self.flow(v)}" for k, v in value.items()) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self.flow(v) for v in value) + "]"
        return self.scalar(value)

    def define(self, shared: Shared) -> None:
        body = self.entry(f"  {shared.name}:", shared.value, 2, anchor=shared.name)
        self.defs.extend(body)

    def entry(self, head: str, value: Any, column: int, anchor: str | None = None) -> list[str]:
        """Lines of ``head`` (``key:`` at ``column``) and its value."""
        prop = f" &{anchor}" if anchor else ""
        if isinstance(value, Shared):
            self.define(value)
            return [f"{head} *{value.name}"]
        if isinstance(value, Anchored):
            self.users.append(value.name)
            return self.entry(head, value.value, column, anchor=value.name)
        if isinstance(value, Block):
            pad = " " * (column + self.indent)
            extra = (
                int(value.header[-1])
                if value.header[-1].isdigit()
                else int(value.header[1])
                if value.header[1].isdigit()
                else 0
            )
            pad = " " * (column + extra) if extra else pad
            return [f"{head}{prop} {value.header}", pad + value.value]
        if isinstance(value, Merged):
            self.define(Shared(value.name, value.shared))
            lines = [f"{head}{prop}", f"{' ' * (column + self.indent)}<<: *{value.name}"]
            lines.extend(self.mapping(value.own, column + self.indent))
            return lines
        if isinstance(value, dict) and value:
            return [f"{head}{prop}", *self.mapping(value, column + self.indent)]
        if isinstance(value, list) and value:
            offset = self.offset if not anchor else max(self.offset, 2)
            return [f"{head}{prop}", *self.sequence(value, column + offset)]
        return [f"{head}{prop} {self.flow(value)}"]

    def mapping(self, value: dict[str, Any], column: int) -> list[str]:
        lines: list[str] = []
        for key, item in value.items():
            lines.extend(self.entry(f"{' ' * column}{self.scalar(key)}:", item, column))
        return lines

    def sequence(self, value: list[Any], column: int) -> list[str]:
        pad = " " * column
        lines: list[str] = []
        for item in value:
            inner_column = column + 2
            if isinstance(item, Shared):
                self.define(item)
                lines.append(f"{pad}- *{item.name}")
                continue
            prop = ""
            if isinstance(item, Anchored):
                self.users.append(item.name)
                prop, item = f"&{item.name}", item.value
            if isinstance(item, Block):
                lines.append(f"{pad}- {prop} {item.header}".replace("-  ", "- "))
                extra = (
                    int(item.header[-1])
                    if item.header[-1].isdigit()
                    else int(item.header[1])
                    if item.header[1].isdigit()
                    else 0
                )
                lines.append(" " * (column + extra if extra else inner_column) + item.value)
                continue
            if isinstance(item, Merged):
                self.define(Shared(item.name, item.shared))
                lines.append(f"{pad}- {prop}".rstrip() if prop else f"{pad}- <<: *{item.name}")
                if prop:
                    lines.append(f"{' ' * inner_column}<<: *{item.name}")
                lines.extend(self.mapping(item.own, inner_column))
                continue
            if isinstance(item, dict) and item:
                inner = self.mapping(item, inner_column)
                if prop:
                    lines.append(f"{pad}- {prop}")
                    lines.extend(inner)
                else:
                    lines.append(f"{pad}- {inner[0][inner_column:]}")
                    lines.extend(inner[1:])
            elif isinstance(item, list) and item:
                lines.append(f"{pad}- {prop} {self.flow(item)}".replace("-  ", "- "))
            else:
                lines.append(f"{pad}- {prop} {self.flow(item)}".replace("-  ", "- "))
        return lines


def document(pod: Any, emitter: Emitter, whole: Any) -> tuple[str, dict[str, Any]]:
    """The Deployment's text and the data it stands for; ``whole`` wraps the pod spec itself
    (None, Shared or Merged)."""
    annotations = {f"note-{i}": value for i, (_, _, value) in enumerate(FREE_BLOCKS)}
    if whole is Shared:
        template_spec: Any = Shared("podspec", pod)
    elif whole is Merged:
        keys = list(pod)
        cut = len(keys) // 2 + 1
        template_spec = Merged(
            "poddefaults", {k: pod[k] for k in keys[:cut]}, {k: pod[k] for k in keys[cut:]}
        )
    else:
        template_spec = pod
    body = emitter.entry("    spec:", template_spec, 4)
    lines = ["apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: web", "  annotations:"]
    for i, (header, text, _) in enumerate(FREE_BLOCKS):
        lines.append(f"    note-{i}: {header}")
        pad = " " * (6 if not header[-1].isdigit() else 4 + int(header[-1]))
        if header[1:2].isdigit():
            pad = " " * (4 + int(header[1]))
        lines.extend((pad + part) if part else "" for part in text[:-1].split("\n"))
        if text.endswith("\n\n"):
            pass
    if emitter.defs:
        lines.append("x-defs:")
        lines.extend(emitter.defs)
    lines += ["spec:", "  replicas: 2", "  template:", *body]
    if emitter.users:
        lines.append("x-users:")
        lines.extend(f"- *{name}" for name in emitter.users)
    data: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "annotations": annotations},
        "spec": {"replicas": 2, "template": {"spec": plain(pod)}},
    }
    return "\n".join(lines) + "\n", data


@st.composite
def manifests(draw: st.DrawFn) -> tuple[str, dict[str, Any], dict[str, Any]]:
    pod = draw(pod_specs())
    if draw(st.booleans()):
        pod["containers"].append({"name": "side", "image": "example.com/app:1", "args": ["a", "b"]})
    sharer = Sharer(draw, draw(st.sampled_from((2, 4, 8))))
    wrapped = sharer.wrap_children(pod, 0, True)
    emitter = Emitter(draw(st.sampled_from((2, 4))), draw(st.sampled_from((0, 2))))
    whole = draw(st.sampled_from((None, None, None, None, None, None, Shared, Merged)))
    if whole is not None:  # what x-defs holds is not wrapped further
        wrapped = sharer.wrap_children(pod, 0, False)
    text, data = document(wrapped, emitter, whole)
    if emitter.defs:
        data["x-defs"] = None  # filled from the text: what the anchored copies read as
    if emitter.users:
        data["x-users"] = None
    return text, data, pod


def without(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in keys}


SHARED = settings(
    max_examples=500, deadline=None, phases=PHASES, suppress_health_check=[HealthCheck.too_slow]
)


@SHARED
@given(manifests(), allowed_sets, st.booleans(), st.booleans())
def test_shared_nodes_and_block_scalars_are_edited_for_this_workload_only(
    manifest: tuple[str, dict[str, Any], dict[str, Any]],
    allowed: frozenset[tuple[str, str]],
    with_taints: bool,
    with_rewrites: bool,
) -> None:
    text, data, pod = manifest
    loaded = yaml.safe_load(text)
    for key in ("x-defs", "x-users"):
        if key in data:
            data[key] = loaded[key]
    assert loaded == data, text  # the emitter itself is right

    found = scanning.scan(text, "t.yaml", Kinds())
    assert found.findings == [], text
    supported = pin.AllImages(frozenset(Platform(os, arch) for os, arch in allowed))
    taints = TAINTS if with_taints else None
    rewrites = REWRITES if with_rewrites else {}
    outcome = pin.pin(found, supported, taints=taints, rewrites=rewrites)

    expected = affinity.plan(pod, allowed)
    errors = [f for f in outcome.findings if f.severity == "error"]
    assert not any("internal error" in f.message or "unexpected" in f.message for f in errors), (
        [str(f) for f in errors],
        text,
    )
    if expected.conflict:
        assert outcome.text == text
        assert [f.exit_code for f in errors] == [1]
        return
    ops = list(expected.ops)
    if taints is not None:
        ops += tolerations.plan(pod, expected.admitted, taints).ops
    ops += [
        ("replace", ("containers", i, "image"), REWRITES[c["image"]])
        for i, c in enumerate(pod["containers"])
        if c["image"] in rewrites
    ]
    event("edits" if ops else "already pinned")
    assert errors == [], ([str(f) for f in errors], text)
    result = yaml.safe_load(outcome.text)
    assert result["spec"]["template"]["spec"] == affinity.apply(pod, ops), outcome.text
    assert without(result, "spec") == without(loaded, "spec"), outcome.text  # the anchors' other users
    assert without(result["spec"], "template") == without(loaded["spec"], "template")

    again = pin.pin(
        scanning.scan(outcome.text, "t.yaml", Kinds()), supported, taints=taints, rewrites=rewrites
    )
    assert [f for f in again.findings if f.severity == "error"] == []
    assert again.changed == [] or not ops, outcome.text
    assert again.text == outcome.text
