"""Text splicing agrees with the data transform, whatever the layout of the manifest.

A Deployment with a random pod spec is written out in one of several YAML layouts, pinned
through :func:`kubectl_arch.manifest.scan.scan` and :func:`kubectl_arch.pin.pin`, and read back with
PyYAML (YAML 1.1, as the API server reads manifests). The pod spec read back must equal
:func:`kubectl_arch.affinity.apply` of the plan on the original data, everything else must be
equal as data, the lines outside the pod's ``affinity`` must be byte-identical (comments
included), and pinning the result again must not change a byte.
"""

from __future__ import annotations

import copy
import json
import random
import re
from typing import Any, NamedTuple

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_affinity_properties import PHASES, allowed_sets, pod_specs

from kubectl_arch import affinity, pin
from kubectl_arch.manifest import scan as scanning
from kubectl_arch.manifest.workloads import Kinds
from kubectl_arch.platforms import Platform

RELEVANT = ("affinity", "nodeSelector", "tolerations")  # what scanning.scan reads of a pod spec
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9._/-]*")


class Layout(NamedTuple):
    mapping_indent: int  # 2 or 4
    sequence_indent: int  # 0: "- " at the parent key's column; 2: two columns in
    flow_affinity: str  # "block"; "inline": the pod affinity as one flow line; "json": pretty JSON
    flow_lists: bool  # lists of scalars as [a, b]
    quotes: str  # "plain" where possible, "double" or "single" for every string
    quote_keys: bool
    null: str  # how a null value is written: "null", "~" or nothing
    comments: float  # how likely a comment is at each place one can go
    crlf: bool
    other_document: str  # "none", "before" or "after": a ConfigMap in the same stream


layouts = st.builds(
    Layout,
    st.sampled_from((2, 4)),
    st.sampled_from((0, 2)),
    st.sampled_from(("block", "block", "block", "block", "block", "block", "inline", "json")),
    st.booleans(),
    st.sampled_from(("plain", "plain", "double", "single")),
    st.integers(0, 4).map(lambda n: n == 0),
    st.sampled_from(("null", "~", "")),
    st.sampled_from((0.0, 0.2, 0.5)),
    st.integers(0, 3).map(lambda n: n == 0),
    st.sampled_from(("none", "none", "before", "after")),
)


# -- a small YAML emitter --------------------------------------------------------------------------


class Emitter:
    """Block YAML in a chosen layout, with comments that name where they were put."""

    def __init__(self, layout: Layout, rng: random.Random) -> None:
        self.layout = layout
        self.rng = rng
        self.comments = 0

    def scalar(self, value: Any, *, key: bool = False, flow: bool = False) -> str:
        if value is None:
            return (self.layout.null or "null") if flow else self.layout.null
        if isinstance(value, bool | int):
            return json.dumps(value)
        assert isinstance(value, str)
        quotes = "plain" if key and not self.layout.quote_keys else self.layout.quotes
        if quotes == "plain" and _PLAIN.fullmatch(value) and yaml.safe_load(value) == value:
            return value
        if quotes == "single":
            return "'" + value.replace("'", "''") + "'"
        return json.dumps(value)

    def flow(self, value: Any) -> str:
        if isinstance(value, dict):
            pairs = (f"{self.scalar(k, key=True, flow=True)}: {self.flow(v)}" for k, v in value.items())
            return "{" + ", ".join(pairs) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self.flow(v) for v in value) + "]"
        return self.scalar(value, flow=True)

    def comment(self) -> str:
        self.comments += 1
        return f"# note {self.comments}"

    def maybe(self) -> bool:
        return self.rng.random() < self.layout.comments

    def trailing(self, line: str) -> str:
        return f"{line}  {self.comment()}" if self.maybe() else line

    def mapping(self, value: dict[str, Any], column: int, *, first_inline: bool = False) -> list[str]:
        pad = " " * column
        lines: list[str] = []
        for i, (key, item) in enumerate(value.items()):
            if self.maybe() and not (first_inline and i == 0):
                lines.append(pad + self.comment() if self.rng.random() < 0.8 else "")
            head = f"{pad}{self.scalar(key, key=True)}:"
            lines.extend(self.entry(head, key, item, column))
        return lines

    def entry(self, head: str, key: str, item: Any, column: int) -> list[str]:
        if key == "affinity" and self.layout.flow_affinity != "block" and isinstance(item, dict):
            if self.layout.flow_affinity == "inline":
                return [self.trailing(f"{head} {self.flow(item)}")]
            pad = " " * (column + 2)
            return [f"{head} " + json.dumps(item, indent=2).replace("\n", "\n" + pad)]
        if isinstance(item, dict) and item:
            return [self.trailing(head), *self.mapping(item, column + self.layout.mapping_indent)]
        if isinstance(item, list) and item:
            if self.layout.flow_lists and not any(isinstance(v, dict | list) for v in item):
                return [self.trailing(f"{head} {self.flow(item)}")]
            return [self.trailing(head), *self.sequence(item, column + self.layout.sequence_indent)]
        text = self.flow(item) if isinstance(item, dict | list) else self.scalar(item)
        return [self.trailing(f"{head} {text}" if text else head)]

    def sequence(self, value: list[Any], column: int) -> list[str]:
        pad = " " * column
        lines: list[str] = []
        for item in value:
            if self.maybe():
                lines.append(pad + self.comment())
            if isinstance(item, dict) and item:
                inner = self.mapping(item, column + 2, first_inline=True)
                lines.append(f"{pad}- {inner[0][column + 2 :]}")
                lines.extend(inner[1:])
            elif isinstance(item, dict | list):
                lines.append(self.trailing(f"{pad}- {self.flow(item)}"))
            else:
                text = self.scalar(item)
                lines.append(self.trailing(f"{pad}- {text}" if text else f"{pad}-"))
        return lines


def deployment(pod: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod},
        },
    }


CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"k": "v"}}


class Manifest(NamedTuple):
    text: str
    documents: list[dict[str, Any]]
    index: int  # of the Deployment among the documents
    pod_column: int  # column of the pod spec's keys


def emit(pod: dict[str, Any], layout: Layout, rng: random.Random) -> Manifest:
    emitter = Emitter(layout, rng)
    pod = dict(rng.sample(list(pod.items()), len(pod)))  # the same pod spec, keys in any order
    documents = [deployment(pod)]
    if layout.other_document == "before":
        documents.insert(0, CONFIG_MAP)
    elif layout.other_document == "after":
        documents.append(CONFIG_MAP)
    chunks = []
    for i, document in enumerate(documents):
        lines = [emitter.comment()] if emitter.maybe() else []
        if i or rng.random() < 0.3:
            lines.append("---")
        lines.extend(emitter.mapping(document, 0))
        chunks.append("\n".join(lines) + "\n")
    text = "".join(chunks)
    if layout.crlf:
        text = text.replace("\n", "\r\n")
    index = next(i for i, d in enumerate(documents) if d["kind"] == "Deployment")
    return Manifest(text, documents, index, 3 * layout.mapping_indent)


def outside_affinity(text: str, column: int) -> list[str]:
    """The lines of ``text`` except the pod spec's ``affinity`` entry: its key line and the lines
    indented under it (blank lines count as inside only when the entry goes on after them)."""
    key = re.compile(" " * column + r"""(affinity|"affinity"|'affinity') *:""")
    out: list[str] = []
    blanks: list[str] = []
    inside = False
    for line in text.split("\n"):
        stripped = line.rstrip("\r")
        if not stripped.strip():
            blanks.append(line)
            continue
        indent = len(stripped) - len(stripped.lstrip(" "))
        if key.match(stripped) or (inside and indent > column):
            if not inside:
                out.extend(blanks)
            inside = True
        else:
            inside = False
            out.extend(blanks)
            out.append(line)
        blanks = []
    return out + blanks


def blank_lines(text: str) -> int:
    return sum(1 for line in text.split("\n") if not line.strip())


def as_text(value: Any) -> Any:
    """Data as the scan reads it: scalars as their text, nulls as None."""
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_text(v) for v in value]
    return None if value is None else str(value)


def pod_of(document: dict[str, Any]) -> dict[str, Any]:
    return document["spec"]["template"]["spec"]


def without_affinity(documents: list[dict[str, Any]], index: int) -> list[dict[str, Any]]:
    out = copy.deepcopy(documents)
    pod_of(out[index]).pop("affinity", None)
    return out


SPLICE = settings(
    max_examples=600, deadline=None, phases=PHASES, suppress_health_check=[HealthCheck.too_slow]
)


@SPLICE
@given(pod_specs(), allowed_sets, layouts, st.randoms(use_true_random=False))
def test_spliced_text_means_the_planned_data(
    pod: dict[str, Any], allowed: frozenset[tuple[str, str]], layout: Layout, rng: random.Random
) -> None:
    manifest = emit(pod, layout, rng)
    text = manifest.text
    assert list(yaml.safe_load_all(text)) == manifest.documents, text  # the emitter itself is right

    found = scanning.scan(text, "t.yaml", Kinds())
    assert found.findings == []
    assert len(found.workloads) == 1
    assert found.workloads[0].pod == as_text({k: pod[k] for k in RELEVANT if k in pod})
    supported = pin.static_platforms([found], frozenset(Platform(os, arch) for os, arch in allowed))
    outcome = pin.pin(found, supported)

    expected = affinity.plan(pod, allowed)
    event("conflict" if expected.conflict else "edits" if expected.ops else "already pinned")
    event(f"operations: {sorted({op[0] for op in expected.ops})}")
    if expected.conflict:
        assert outcome.text == text
        assert [f.exit_code for f in outcome.findings if f.severity == "error"] == [1]
        return
    assert [f for f in outcome.findings if f.severity == "error"] == []
    assert [f.message for f in outcome.findings] == list(expected.warnings)
    assert bool(outcome.changed) == bool(expected.ops)
    if not expected.ops:
        assert outcome.text == text

    result = list(yaml.safe_load_all(outcome.text))
    assert pod_of(result[manifest.index]) == affinity.apply(pod, expected.ops), outcome.text
    assert without_affinity(result, manifest.index) == without_affinity(manifest.documents, manifest.index)
    assert outside_affinity(outcome.text, manifest.pod_column) == outside_affinity(text, manifest.pod_column)
    if layout.crlf:
        assert "\n" not in outcome.text.replace("\r\n", ""), outcome.text
    assert blank_lines(outcome.text) <= blank_lines(text), outcome.text

    again = pin.pin(scanning.scan(outcome.text, "t.yaml", Kinds()), supported)
    assert again.text == outcome.text
    assert again.changed == []


# -- layouts found to go wrong ------------------------------------------------------------------------


def pinned(text: str, *platforms: tuple[str, str]) -> pin.Outcome:
    found = scanning.scan(text, "t.yaml", Kinds())
    assert found.findings == []
    return pin.pin(found, pin.static_platforms([found], frozenset(Platform(*p) for p in platforms)))


POD_WITH_TERM = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: app
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - key: kubernetes.io/arch
                operator: In
                values: [s390x, arm64, amd64]
"""


def test_removing_adjacent_items_of_a_flow_list() -> None:
    outcome = pinned(POD_WITH_TERM, ("linux", "amd64"))
    assert [f for f in outcome.findings if f.severity == "error"] == []
    assert "values: [amd64]" in outcome.text
    assert pod_of(yaml.safe_load(outcome.text))["affinity"]["nodeAffinity"][affinity.REQUIRED] == {
        "nodeSelectorTerms": [
            {
                "matchExpressions": [
                    {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
                    {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                ]
            }
        ]
    }


def test_edit_at_the_very_end_of_a_document() -> None:
    for text in (POD_WITH_TERM, POD_WITH_TERM + "---\napiVersion: v1\nkind: ConfigMap\n"):
        outcome = pinned(text, ("linux", "arm64"), ("linux", "amd64"))
        assert [f for f in outcome.findings if f.severity == "error"] == []
        assert outcome.text == text.replace(
            "values: [s390x, arm64, amd64]\n",
            "values: [arm64, amd64]\n"
            "              - key: kubernetes.io/os\n"
            "                operator: In\n"
            "                values:\n"
            "                - linux\n",
        )


@pytest.mark.parametrize(
    "terms",
    [
        # term 1 is dropped while term 0 gains expressions
        "[{matchExpressions: [{key: zone, operator: In, values: [a]}]},"
        " {matchExpressions: [{key: kubernetes.io/arch, operator: In, values: [s390x]}]}]",
        # expression 0 is replaced while expression 1 is dropped
        "[{matchExpressions: [{key: kubernetes.io/arch, operator: In, values: [amd64, arm64]},"
        " {key: kubernetes.io/arch, operator: NotIn, values: [s390x]}]}]",
    ],
)
def test_flow_list_losing_items_while_a_kept_item_changes(terms: str) -> None:
    text = (
        POD_WITH_TERM.split("            nodeSelectorTerms:")[0] + f"            nodeSelectorTerms: {terms}\n"
    )
    pod = pod_of(yaml.safe_load(text))
    expected = affinity.plan(pod, {("linux", "amd64")})
    assert expected.conflict is None and expected.ops
    outcome = pinned(text, ("linux", "amd64"))
    assert [f for f in outcome.findings if f.severity == "error"] == []
    assert pod_of(yaml.safe_load(outcome.text)) == affinity.apply(pod, expected.ops)
    assert outcome.text.count("\n") == text.count("\n")
