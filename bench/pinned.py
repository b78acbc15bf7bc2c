"""Reading manifests back: which workloads are restricted to the benchmarks' platforms (PyYAML)."""

from __future__ import annotations

from typing import Any

import yaml

PATCHED_KINDS = ("Deployment", "StatefulSet")
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_all(text: str | bytes) -> list[dict[str, Any]]:
    """The objects of a YAML stream; a List's or ResourceList's items replace it."""
    out: list[dict[str, Any]] = []
    for doc in yaml.load_all(text, Loader=LOADER):
        if isinstance(doc, dict) and str(doc.get("kind", "")).endswith("List") and "items" in doc:
            out.extend(item for item in doc["items"] or [] if isinstance(item, dict))
        elif isinstance(doc, dict):
            out.append(doc)
    return out


def workloads(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d.get("kind") in PATCHED_KINDS]


def restricts(pod: dict[str, Any]) -> bool:
    """Whether the pod may land only on linux nodes of arch amd64 or arm64.

    Every required node selector term must restrict ``kubernetes.io/os`` and
    ``kubernetes.io/arch`` to exactly those values, by an ``In`` expression of the term or,
    for a key the term leaves open, by the pod's ``nodeSelector`` (pin leaves a key alone
    when the nodeSelector already pins it).
    """
    want = {"kubernetes.io/os": {"linux"}, "kubernetes.io/arch": {"amd64", "arm64"}}
    selector = pod.get("nodeSelector") or {}
    required = ((pod.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms") or []
    if not terms:
        return False
    for term in terms:
        found = {
            e["key"]: set(e.get("values") or [])
            for e in term.get("matchExpressions") or []
            if e.get("operator") == "In"
        }
        for key, values in want.items():
            have = found.get(key, {selector[key]} if key in selector else None)
            if have != values:
                return False
    return True


def count_pinned(text: bytes) -> int:
    """Deployments and StatefulSets restricted to exactly the benchmark's platforms."""
    return sum(restricts(doc["spec"]["template"]["spec"]) for doc in workloads(load_all(text)))
