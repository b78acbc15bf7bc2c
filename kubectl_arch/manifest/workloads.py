"""Where each kind keeps its pod spec, and which containers a pod spec has.

Built-in workload kinds are matched by kind and API group; kinds declared by the user
(``Rollout.argoproj.io=spec.template.spec``) by kind and, when given, group. A path segment
``*`` stands for every value of a mapping or item of a list, for kinds with several pod
templates (``MPIJob=spec.mpiReplicaSpecs.*.template.spec``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

CONTAINER_FIELDS = ("initContainers", "containers", "ephemeralContainers")

_TEMPLATE = ("spec", "template", "spec")
BUILTIN: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "Pod": (frozenset({""}), ("spec",)),
    "PodTemplate": (frozenset({""}), ("template", "spec")),
    "ReplicationController": (frozenset({""}), _TEMPLATE),
    "Deployment": (frozenset({"apps", "extensions"}), _TEMPLATE),
    "DaemonSet": (frozenset({"apps", "extensions"}), _TEMPLATE),
    "ReplicaSet": (frozenset({"apps", "extensions"}), _TEMPLATE),
    "StatefulSet": (frozenset({"apps"}), _TEMPLATE),
    "Job": (frozenset({"batch"}), _TEMPLATE),
    "CronJob": (frozenset({"batch"}), ("spec", "jobTemplate", "spec", "template", "spec")),
}

_DECLARATION = (
    r"(?P<kind>[A-Za-z][A-Za-z0-9]*)(?:\.(?P<group>[a-z0-9][a-z0-9.\-]*))?"
    r"=(?P<path>[A-Za-z0-9_\-*]+(?:\.[A-Za-z0-9_\-*]+)*)"
)


class KindError(ValueError):
    """An invalid ``--pod-template-path`` declaration."""


class PodTemplatePath(NamedTuple):
    kind: str
    group: str | None  # None: any group
    path: tuple[str, ...]


def parse_declaration(text: str) -> PodTemplatePath:
    m = re.fullmatch(_DECLARATION, text.strip())
    if not m:
        raise KindError(
            f"invalid pod template path {text!r}: expected Kind[.group]=dotted.path, "
            "e.g. Rollout.argoproj.io=spec.template.spec"
        )
    return PodTemplatePath(m["kind"], m["group"], tuple(m["path"].split(".")))


def group_of(api_version: str | None) -> str:
    if not api_version or "/" not in api_version:
        return ""
    return api_version.split("/", 1)[0]


class Kinds:
    """The set of kinds pin edits: the built-in workloads plus user declarations."""

    def __init__(self, declarations: Iterable[PodTemplatePath] = ()) -> None:
        self.declared: dict[str, list[PodTemplatePath]] = {}
        for declaration in declarations:
            self.declared.setdefault(declaration.kind, []).append(declaration)

    @classmethod
    def parse(cls, texts: Iterable[str]) -> Kinds:
        return cls(parse_declaration(t) for t in texts)

    def known(self) -> list[tuple[str, frozenset[str] | None]]:
        """Every kind this set treats as a workload, with its API groups (None: any group):
        what ``audit`` lists from a cluster. PodTemplate is left out: nothing runs it."""
        out: list[tuple[str, frozenset[str] | None]] = [
            (kind, groups) for kind, (groups, _) in BUILTIN.items() if kind != "PodTemplate"
        ]
        for kind, declarations in self.declared.items():
            for d in declarations:
                out.append((kind, None if d.group is None else frozenset({d.group})))
        return out

    def is_candidate(self, kind: str) -> bool:
        """Whether a document of this kind may need editing (workloads and lists)."""
        return kind in BUILTIN or kind in self.declared or kind.endswith("List")

    def paths(self, api_version: str | None, kind: str) -> list[tuple[str, ...]]:
        """The pod spec paths of an object; empty when it is not a workload."""
        group = group_of(api_version)
        found = [d.path for d in self.declared.get(kind, ()) if d.group is None or d.group == group]
        if found:
            return found
        builtin = BUILTIN.get(kind)
        if builtin is not None and api_version and group in builtin[0]:
            return [builtin[1]]
        return []
