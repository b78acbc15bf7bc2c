"""Which of a cluster's nodes a pod fits, and why not: a pure function for ``check``.

:func:`fit` takes a pod spec (plain data: ``nodeSelector``, ``affinity``, ``tolerations``),
the platforms each of its images supports, and the cluster's :class:`~.nodeinfo.NodeInfo`
records, and filters the nodes as kube-scheduler's default filters do, in their order, then
makes the one check the scheduler cannot (the kubelet would fail with ``exec format error``,
or containerd with "no matching manifest", instead):

1. the node is Ready (the node lifecycle controller taints the others ``not-ready``);
2. NodeUnschedulable: it is not cordoned, unless the pod tolerates
   ``node.kubernetes.io/unschedulable:NoSchedule``;
3. TaintToleration: every NoSchedule and NoExecute taint of the node is tolerated;
4. NodeAffinity: the pod's ``nodeSelector`` matches the node's labels, then its required
   node affinity does (terms ORed, the requirements of a term ANDed);
5. the kubelet's admission of ``spec.os.name``: the node runs that OS (``PodOSNotSupported``
   otherwise; the scheduler does not look at it);
6. image platforms: every image has an entry for the node's os and architecture and, on a
   Windows node, one its build runs (:func:`~.platforms.windows_runs`); a Windows node whose
   build is unknown (no ``node.kubernetes.io/windows-build`` label) runs only entries without
   an ``os.version``.

A pod with ``spec.nodeName`` skips the scheduler: it fits only the node it names, judged as
the kubelet admits it there (Ready; NoExecute taints tolerated; nodeSelector, required node
affinity and ``spec.os.name``; images), cordons and NoSchedule taints aside. The tolerations
the API server and controllers add (:func:`~.tolerations.implied`: a DaemonSet's pods
tolerate cordons and node pressure) come in as ``extra_tolerations``.

A node that fails is counted under the first filter it fails, so the reasons add up to the
nodes that do not fit, as the scheduler's "0/N nodes are available" message does.

Node affinity is read exactly as kube-scheduler's helpers read it (``component-helpers/
scheduling/corev1/nodeaffinity``): a required node affinity with no terms, and a term with
neither ``matchExpressions`` nor ``matchFields``, match no node; a term the scheduler cannot
parse (a label key or value that is not valid, ``In`` without values, ``Exists`` with
values, ``Gt`` without one integer, an unknown operator) matches no node either, while the
other terms still may; ``matchFields`` compare the node's fields (only ``metadata.name`` is
set) with ``In``/``NotIn`` and exactly one value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from . import nodeselector, podspec
from .cluster.nodeinfo import NodeInfo, Taint
from .platforms import WINDOWS_BUILD_LABEL, Platform, windows_runs
from .tolerations import tolerates

REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
UNSCHEDULABLE_TAINT = Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")
NODE_NAME_FIELD = nodeselector.NODE_NAME_FIELD
OPERATORS = nodeselector.OPERATORS

# Reasons, in the order the filters run.
NODE_NAME = "nodeName"
NOT_READY = "not Ready"
CORDONED = "cordoned"
UNTOLERATED_TAINT = "untolerated taint"
NODE_SELECTOR = "nodeSelector"
AFFINITY = "affinity"
POD_OS = "os"
IMAGE_PLATFORMS = "image platforms"
REASONS = (
    NODE_NAME, NOT_READY, CORDONED, UNTOLERATED_TAINT, NODE_SELECTOR, AFFINITY, POD_OS, IMAGE_PLATFORMS,
)  # fmt: skip


class Rejection(NamedTuple):
    reason: str  # one of REASONS
    detail: str  # the platform, the taint, why the affinity matches nothing...
    nodes: int

    def __str__(self) -> str:
        n = f"{self.nodes} node(s)"
        detail = f" ({self.detail})" if self.detail else ""
        if self.reason == NOT_READY:
            return f"{n} not Ready"
        if self.reason == CORDONED:
            return f"{n} cordoned"
        if self.reason in (IMAGE_PLATFORMS, POD_OS):
            return f"{n} {self.detail}"
        if self.reason == NODE_NAME:
            return f"{n} other than {self.detail}"
        if self.reason == NODE_SELECTOR:
            return f"{n} not matching the nodeSelector{detail}"
        if self.reason == AFFINITY:
            return f"{n} not matching the required node affinity{detail}"
        return f"{n} with untolerated taint {self.detail}"


class Fit(NamedTuple):
    nodes: tuple[str, ...]  # the Ready nodes the pod fits, in the order given
    platforms: frozenset[tuple[str, str]]  # their platforms
    total: int  # nodes considered
    rejections: tuple[Rejection, ...]  # why the others do not fit, in filter order

    @property
    def fits(self) -> bool:
        return bool(self.nodes)

    @property
    def reasons(self) -> tuple[str, ...]:
        """The distinct reasons, in filter order (for a CI summary: "untolerated taint")."""
        return tuple(dict.fromkeys(r.reason for r in self.rejections))

    def explain(self) -> str:
        """``0/13 nodes fit: 4 node(s) with untolerated taint kubernetes.io/arch=arm64:NoSchedule, ...``"""
        head = f"{len(self.nodes)}/{self.total} nodes fit"
        return f"{head}: {', '.join(map(str, self.rejections))}" if self.rejections else head


# -- node affinity, as the scheduler parses it -------------------------------------------------

# The parser is shared with pin's affinity transform (nodeselector.py); these names stay here too.
label_key_problem = nodeselector.label_key_problem
label_value_problem = nodeselector.label_value_problem
requirement_problem = nodeselector.requirement_problem
_sequence = nodeselector.sequence


def requirement_matches(operator: Any, values: Sequence[str], label: str | None) -> bool:
    """A NodeSelectorRequirement against one label (``None``: the node has no such label).
    A requirement the scheduler cannot parse matches nothing."""
    if requirement_problem(operator, values):
        return False
    return nodeselector.Requirement("", str(operator), tuple(values)).holds(label)


class Placement(NamedTuple):
    """What a pod spec requires of a node's labels and name (kube-scheduler's NodeAffinity
    filter: ``nodeSelector`` and required node affinity), parsed once for many nodes."""

    selector: tuple[tuple[str, str], ...] | None  # None: nodeSelector is not a mapping
    terms: tuple[nodeselector.Term, ...] | None  # None: no required node affinity
    problem: str  # why the required node affinity matches no node at all ("" otherwise)
    os_name: str | None = None  # spec.os.name
    node_name: str = ""  # spec.nodeName

    def selector_matches(self, labels: Mapping[str, str]) -> bool:
        if self.selector is None:
            return False
        return all(labels.get(key) == value for key, value in self.selector)

    def affinity_matches(self, labels: Mapping[str, str], name: str) -> bool:
        if self.terms is None:
            return not self.problem
        return any(t.matches(labels, name) for t in self.terms)

    def matches(self, labels: Mapping[str, str], name: str) -> bool:
        return self.selector_matches(labels) and self.affinity_matches(labels, name)

    def allows(self, node: NodeInfo) -> bool:
        """Whether the pod's own constraints let it run on ``node``: its name
        (``spec.nodeName``), labels and OS (``spec.os.name``)."""
        if self.node_name and node.name != self.node_name:
            return False
        if self.os_name is not None and node.os != self.os_name:
            return False
        return self.matches(node.labels, node.name)


def placement(pod_spec: Mapping[str, Any]) -> Placement:
    """Parse a pod spec's ``nodeSelector`` and required node affinity as the scheduler does,
    with its ``spec.os.name`` and ``spec.nodeName``."""
    rules = _node_rules(pod_spec)
    return rules._replace(os_name=podspec.os_name(pod_spec), node_name=podspec.node_name(pod_spec))


def _node_rules(pod_spec: Mapping[str, Any]) -> Placement:
    raw_selector = pod_spec.get("nodeSelector")
    selector: tuple[tuple[str, str], ...] | None = ()
    if isinstance(raw_selector, Mapping):
        selector = tuple((str(k), "" if v is None else str(v)) for k, v in raw_selector.items())
    elif raw_selector is not None:
        selector = None
    level: Any = pod_spec
    for key in ("affinity", "nodeAffinity"):
        level = level.get(key) if isinstance(level, Mapping) else None
        if level is None:
            return Placement(selector, None, "")
    if not isinstance(level, Mapping):
        return Placement(selector, None, "affinity.nodeAffinity is not a mapping")
    required = level.get(REQUIRED)
    if required is None:
        return Placement(selector, None, "")
    if not isinstance(required, Mapping):
        return Placement(selector, None, f"{REQUIRED} is not a mapping")
    raw_terms = _sequence(required.get("nodeSelectorTerms"))
    if raw_terms is None:
        return Placement(selector, None, "nodeSelectorTerms is not a list")
    if not raw_terms:
        return Placement(selector, (), "it has no nodeSelectorTerms, which matches no node")
    terms = [nodeselector.parse_term(t, f"term {i}") for i, t in enumerate(raw_terms)]
    live = tuple(t for t in terms if t is not None)
    problem = ""
    if not live:
        problem = "its nodeSelectorTerms are all empty, which matches no node"
    elif all(t.problem for t in live):
        problem = f"the scheduler cannot parse it, so it matches no node: {live[0].problem}"
    return Placement(selector, live, problem)


def selector_matches(pod_spec: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """The pod's ``nodeSelector`` against a node's labels."""
    return placement(pod_spec).selector_matches(labels)


def affinity_matches(pod_spec: Mapping[str, Any], labels: Mapping[str, str], name: str) -> bool:
    """The pod's required node affinity against a node's labels and name."""
    return placement(pod_spec).affinity_matches(labels, name)


# -- fitting ------------------------------------------------------------------------------------


def _tolerations(pod_spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [t for t in _sequence(pod_spec.get("tolerations")) or () if isinstance(t, Mapping)]


def image_runs(platforms: Iterable[Platform], node: NodeInfo) -> bool:
    """Whether an image with these platforms runs on ``node``: an entry for its os and
    architecture (variants are not labelled, so not compared) and, on a Windows node, one
    without an ``os.version`` or one the node's build (``node.kubernetes.io/windows-build``)
    runs; a Windows node without that label runs no entry that names a build (its build is
    unknown, and ``pin`` keeps such pods off it too)."""
    for p in platforms:
        if p.node != node.platform:
            continue
        if node.os != "windows" or not p.os_version:
            return True
        if node.windows_build and windows_runs(node.windows_build, p.os_version):
            return True
    return False


def fit(
    pod_spec: Mapping[str, Any],
    images: Mapping[str, Iterable[Platform]],
    nodes: Iterable[NodeInfo],
    weights: Sequence[int] | None = None,
    extra_tolerations: Iterable[Mapping[str, Any]] = (),
) -> Fit:
    """The Ready nodes a pod fits and, for the others, the first filter each fails.

    ``weights``: each node stands for that many nodes (alike but for their names), in the
    counts; ``nodes`` of the result then lists the representatives that fit.
    ``extra_tolerations``: those the pod gets beyond its spec (:func:`~.tolerations.implied`)."""
    per_image = {image: tuple(platforms) for image, platforms in images.items()}
    rules = placement(pod_spec)
    tolerations = [*_tolerations(pod_spec), *extra_tolerations]
    named = False
    gaps: dict[tuple[str, str, str], str | None] = {}
    fitting: list[str] = []
    platforms: set[tuple[str, str]] = set()
    counts: dict[tuple[str, str], int] = {}
    total = 0
    for i, node in enumerate(nodes):
        weight = weights[i] if weights is not None else 1
        total += weight
        named = named or node.name == rules.node_name
        rejection = _reject(node, rules, tolerations)
        if rejection is None:
            key = (*node.platform, node.windows_build if node.os == "windows" else "")
            if key not in gaps:
                gaps[key] = _image_gap(node, per_image)
            if gaps[key] is not None:
                rejection = (IMAGE_PLATFORMS, gaps[key] or "")
        if rejection is None:
            fitting.append(node.name)
            platforms.add(node.platform)
        else:
            counts[rejection] = counts.get(rejection, 0) + weight
    if rules.node_name and not named:
        counts = {
            ((NODE_NAME, f"{detail} (no node has that name)") if reason == NODE_NAME else (reason, detail)): n
            for (reason, detail), n in counts.items()
        }
    order = {reason: i for i, reason in enumerate(REASONS)}
    rejections = sorted(
        (Rejection(reason, detail, n) for (reason, detail), n in counts.items()),
        key=lambda r: (order[r.reason], -r.nodes, r.detail),
    )
    return Fit(tuple(fitting), frozenset(platforms), total, tuple(rejections))


def daemon_nodes(
    pod_spec: Mapping[str, Any],
    nodes: Iterable[NodeInfo],
    extra_tolerations: Iterable[Mapping[str, Any]] = (),
) -> int:
    """How many of ``nodes`` the DaemonSet controller wants a pod of this template on, Ready or
    not: those its ``spec.nodeName``, ``nodeSelector`` and required node affinity admit, whose
    ``NoSchedule`` and ``NoExecute`` taints its tolerations (with ``extra_tolerations``, the
    controller's own) tolerate (the DaemonSet controller's ``nodeShouldRunDaemonPod``: the
    NodeName, NodeAffinity and TaintToleration predicates). 0: it wants no pod at all."""
    rules = placement(pod_spec)
    tolerations = [*_tolerations(pod_spec), *extra_tolerations]
    count = 0
    for node in nodes:
        if rules.node_name and node.name != rules.node_name:
            continue
        if not rules.matches(node.labels, node.name):
            continue
        if any(
            taint.effect in ("NoSchedule", "NoExecute") and not any(tolerates(t, taint) for t in tolerations)
            for taint in node.taints
        ):
            continue
        count += 1
    return count


def _image_gap(node: NodeInfo, images: Mapping[str, Sequence[Platform]]) -> str | None:
    missing = [image for image, platforms in images.items() if not image_runs(platforms, node)]
    if not missing:
        return None
    which = f"{'image' if len(missing) == 1 else 'images'} {', '.join(missing)}"
    if node.os == "windows" and not node.windows_build:
        return (
            f"run {node.platform_spec} with no {WINDOWS_BUILD_LABEL} label (build unknown), where "
            f"{which} (built for Windows builds) {'is' if len(missing) == 1 else 'are'} not counted"
        )
    return f"run {node.platform_spec}, which {which} cannot run on"


def _reject(
    node: NodeInfo, rules: Placement, tolerations: Sequence[Mapping[str, Any]]
) -> tuple[str, str] | None:
    bound = bool(rules.node_name)  # spec.nodeName: no scheduler, only the kubelet's admission
    if bound and node.name != rules.node_name:
        return (NODE_NAME, f"spec.nodeName {rules.node_name}")
    if not node.ready:
        return (NOT_READY, "")
    if not bound and node.cordoned and not any(tolerates(t, UNSCHEDULABLE_TAINT) for t in tolerations):
        return (CORDONED, "")
    for taint in node.taints:
        if bound and taint.effect != "NoExecute":
            continue  # the kubelet admits a pod whatever the node's NoSchedule taints
        if not any(tolerates(t, taint) for t in tolerations):
            return (UNTOLERATED_TAINT, str(taint))
    if not rules.selector_matches(node.labels):
        return (NODE_SELECTOR, "" if rules.selector is not None else "nodeSelector is not a mapping")
    if not rules.affinity_matches(node.labels, node.name):
        return (AFFINITY, rules.problem)
    if rules.os_name is not None and node.os != rules.os_name:
        return (
            POD_OS,
            f"run {node.os or 'an unknown OS'}, not {rules.os_name} (spec.os.name: the kubelet rejects "
            "the pod there)",
        )
    return None
