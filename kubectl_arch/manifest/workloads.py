"""Where each kind keeps its pod spec, and which containers a pod spec has.

Built-in workload kinds (Kubernetes' own here, the ecosystem's in :mod:`.kinds`) are matched
by kind and API group; kinds declared by the user (``Rollout.argoproj.io=spec.template.spec``)
by kind and, when given, group: a declaration without a group matches that kind in every
group but the core one (``apiVersion: v1``), so that ``Service=spec.template.spec`` never
takes a core Service for a workload. A path segment ``*`` stands for every value of a mapping
or item of a list, for kinds with several pod templates
(``MPIJob=spec.mpiReplicaSpecs.*.template.spec``).

The ecosystem's kinds (:mod:`.kinds`) say which wildcard they mean: ``name[*]`` the items of
a list, ``name{*}`` the values of a mapping (:func:`split_path`); a declared ``*`` takes
either. A value of another type on the way is an input error of the object (``scan``).

A declaration says where containers and placement live when they are apart:
``Task.example.com=containers:spec.steps.*+spec.sidecars.*;placement:spec.podTemplate`` (the
containers paths lead to container mappings or to image strings; the placement mapping is
created when absent). ``Kind.group=`` (no path) says that a kind is not a workload.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # the table is read on the first object of a kind Kubernetes does not have
    from .kinds import Unit

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

_PATH = r"[A-Za-z0-9_\-*]+(?:\.[A-Za-z0-9_\-*]+)*"
_DECLARATION = (
    r"(?P<kind>[A-Za-z][A-Za-z0-9]*)(?:\.(?P<group>[a-z0-9][a-z0-9.\-]*))?"
    rf"=(?:(?P<path>{_PATH})"
    rf"|containers:(?P<containers>{_PATH}(?:\+{_PATH})*);placement:(?P<placement>{_PATH}))?"
)
_FORMS = (
    "expected Kind[.group]=dotted.path, e.g. Rollout.argoproj.io=spec.template.spec; "
    "Kind[.group]=containers:PATH[+PATH...];placement:PATH when containers and placement are apart; "
    "or Kind[.group]= for a kind that makes no pods"
)


LIST_ITEMS = "[*]"  # a path segment: every item of a list
MAP_VALUES = "{*}"  # every value of a mapping
ANY = "*"  # either (a user's declaration)
WILDCARDS = frozenset({LIST_ITEMS, MAP_VALUES, ANY})


@functools.lru_cache(maxsize=512)
def split_path(text: str) -> tuple[str, ...]:
    """A dotted path as segments: ``spec.tasks[*].template`` -> ``("spec", "tasks", "[*]",
    "template")``; ``spec.replicaSpecs{*}.template`` -> ``(..., "replicaSpecs", "{*}", ...)``."""
    out: list[str] = []
    for part in text.split("."):
        for marker in (LIST_ITEMS, MAP_VALUES):
            if part.endswith(marker) and part != marker:
                out.extend((part[: -len(marker)], marker))
                break
        else:
            out.append(part)
    return tuple(out)


class KindError(ValueError):
    """An invalid ``--pod-template-path`` declaration."""


class PodTemplatePath(NamedTuple):
    kind: str
    group: str | None  # None: any group but the core one
    path: tuple[str, ...]  # empty, and no units: not a workload
    units: tuple[Unit, ...] = ()  # containers and placement apart


def parse_declaration(text: str) -> PodTemplatePath:
    """``Kind[.group]=path``, ``Kind[.group]=containers:P+P;placement:P`` or ``Kind[.group]=``;
    raises :class:`KindError` naming the forms."""
    m = re.fullmatch(_DECLARATION, text.strip())
    if not m:
        raise KindError(f"invalid pod template path {text!r}: {_FORMS}")
    if m["containers"]:
        from .kinds import Unit

        unit = Unit("", tuple(m["containers"].split("+")), m["placement"])
        return PodTemplatePath(m["kind"], m["group"], (), (unit,))
    return PodTemplatePath(m["kind"], m["group"], tuple(m["path"].split(".")) if m["path"] else ())


def core_kind_warning(declaration: PodTemplatePath) -> str | None:
    """What to say of a declaration without a group naming a kind of the core group."""
    from .kinds import CORE_KINDS

    if declaration.group is not None or declaration.kind not in CORE_KINDS:
        return None
    # The example group: that of a kind of the same name pin knows (Knative's Service), else a
    # placeholder; the rest of the declaration as it was written.
    known = sorted(group for group, kind in _table() if kind == declaration.kind and group)
    group = known[0] if known else "example.com"
    rest = "..." if declaration.path or declaration.units else ""
    return (
        f"{declaration.kind} without a group matches {declaration.kind} objects of every API group "
        f"but the core one (apiVersion: v1); to name one group, write it after the kind: "
        f"{declaration.kind}.{group}={rest} (the part of apiVersion before the slash)"
    )


class Shape(NamedTuple):
    """Where one object keeps its pods: whole pod specs (``pods``: paths, and whether each may
    be absent) and pods whose containers and placement are apart (``units``); ``refs``: paths
    that mean its pods are defined in another object."""

    pods: tuple[tuple[tuple[str, ...], bool], ...] = ()
    units: tuple[Unit, ...] = ()
    refs: tuple[tuple[str, ...], ...] = ()
    kept: tuple[tuple[tuple[str, ...], bool], ...] = ()  # pods read even when a ref is set


_Table = dict[tuple[str, str], list[tuple[frozenset[str] | None, Shape]]]
_TABLE: _Table = {}
_TABLE_KINDS: set[str] = set()


def _table() -> _Table:
    """The kinds of :mod:`.kinds` by (group, kind), read once."""
    if not _TABLE:
        from . import kinds

        for pod_kind in kinds.POD_KINDS:
            pods = tuple((split_path(p.rstrip("?")), p.endswith("?")) for p in pod_kind.pods)
            kept = tuple(p for p, k in zip(pods, pod_kind.pods, strict=True) if k in pod_kind.kept)
            shape = Shape(pods, (), tuple(split_path(r) for r in pod_kind.refs), kept)
            _TABLE.setdefault((pod_kind.group, pod_kind.kind), []).append((pod_kind.versions, shape))
        for split in kinds.SPLIT_KINDS:
            shape = Shape((), split.units, tuple(split_path(r) for r in split.refs))
            _TABLE.setdefault((split.group, split.kind), []).append((split.versions, shape))
        _TABLE_KINDS.update(kind for _, kind in _TABLE)
    return _TABLE


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
        what ``audit`` lists from a cluster. The built-in kinds, the ecosystem's
        (:mod:`.kinds`) and the declared ones; kinds whose objects only hold templates for
        others to run are left out (PodTemplate, Argo's WorkflowTemplate and
        ClusterWorkflowTemplate: nothing runs them as they are), and so is a kind declared not
        to be a workload (``Kind.group=``)."""
        from .kinds import TEMPLATES_ONLY

        out: list[tuple[str, frozenset[str] | None]] = [
            (kind, groups) for kind, (groups, _) in BUILTIN.items() if ("", kind) not in TEMPLATES_ONLY
        ]
        out.extend(
            (kind, frozenset({group}))
            for group, kind in _table()
            if (group, kind) not in TEMPLATES_ONLY and not self.declared_in(kind, group)
        )
        for kind, declarations in self.declared.items():
            for d in declarations:
                if d.path or d.units:
                    out.append((kind, None if d.group is None else frozenset({d.group})))
        return out

    def declared_in(self, kind: str, group: str) -> bool:
        """Whether a declaration names this kind in this group (which then overrides any
        built-in or ecosystem shape)."""
        return any(d.group == group or (d.group is None and group) for d in self.declared.get(kind, ()))

    def is_candidate(self, kind: str) -> bool:
        """Whether a document of this kind may need editing (workloads and lists)."""
        if kind in BUILTIN or kind in self.declared or kind.endswith("List"):
            return True
        return bool(_table()) and kind in _TABLE_KINDS

    def workload(self, api_version: str | None, kind: str) -> Shape | None:
        """Where an object keeps its pods; None when it is not a workload (a declaration
        ``Kind.group=`` makes it none)."""
        group = group_of(api_version)
        found = [d for d in self.declared.get(kind, ()) if d.group == group or (d.group is None and group)]
        if found:
            pods = tuple((d.path, False) for d in found if d.path)
            units = tuple(u for d in found for u in d.units)
            return Shape(pods, units) if pods or units else None
        builtin = BUILTIN.get(kind)
        if builtin is not None and api_version and group in builtin[0]:
            return Shape(((builtin[1], False),))
        if group and api_version:
            version = api_version.split("/", 1)[1]
            for versions, known in _table().get((group, kind), ()):
                if versions is None or version in versions:
                    return known
        return None

    def paths(self, api_version: str | None, kind: str) -> list[tuple[str, ...]]:
        """The pod spec paths of an object; empty when it is not a workload."""
        found = self.workload(api_version, kind)
        return [p for p, _ in found.pods] if found is not None else []

    def ignored(self, api_version: str | None, kind: str) -> bool:
        """Whether an object is known not to be a workload though it may hold containers."""
        group = group_of(api_version)
        if any(d.group == group or (d.group is None and group) for d in self.declared.get(kind, ())):
            return True  # declared: a workload, or declared not to be one
        if kind in ("CustomResourceDefinition", "ConfigMap", "Secret"):
            return True
        from .kinds import NOT_WORKLOADS

        return (group, kind) in NOT_WORKLOADS
