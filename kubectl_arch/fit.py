"""Which of a cluster's nodes a pod fits, and why not: a pure function for ``check``.

:func:`fit` takes a pod spec (plain data: ``nodeSelector``, ``affinity``, ``tolerations``),
the platforms each of its images supports, and the cluster's :class:`~.nodeinfo.NodeInfo`
records, and filters the nodes as kube-scheduler does, plus the one check the scheduler
cannot make (the kubelet would fail with ``exec format error`` instead):

1. the node is Ready;
2. it is not cordoned, unless the pod tolerates ``node.kubernetes.io/unschedulable``
   (kube-scheduler's NodeUnschedulable plugin);
3. its platform (os, architecture) is one every image supports;
4. the pod's ``nodeSelector`` matches its labels;
5. the pod's required node affinity matches it (NodeAffinity: terms ORed, the expressions and
   fields of a term ANDed, an empty term or one the scheduler cannot parse matches nothing);
6. every NoSchedule and NoExecute taint of the node is tolerated (TaintToleration).

A node that fails is counted under the first filter it fails, so the reasons add up to the
nodes that do not fit, as the scheduler's "0/N nodes are available" message does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from .cluster.nodeinfo import NodeInfo, Taint, format_platform
from .platforms import Platform
from .tolerations import tolerates

REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
UNSCHEDULABLE_TAINT = Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")
NODE_NAME_FIELD = "metadata.name"
_GO_INT = re.compile(r"[+-]?[0-9]+")

# Reasons, in the order the filters run.
NOT_READY = "not Ready"
CORDONED = "cordoned"
IMAGE_PLATFORMS = "image platforms"
NODE_SELECTOR = "nodeSelector"
AFFINITY = "affinity"
UNTOLERATED_TAINT = "untolerated taint"
REASONS = (NOT_READY, CORDONED, IMAGE_PLATFORMS, NODE_SELECTOR, AFFINITY, UNTOLERATED_TAINT)


class Rejection(NamedTuple):
    reason: str  # one of REASONS
    detail: str  # the platform, the taint...: what differs among nodes rejected for one reason
    nodes: int

    def __str__(self) -> str:
        n = f"{self.nodes} node(s)"
        if self.reason == NOT_READY:
            return f"{n} not Ready"
        if self.reason == CORDONED:
            return f"{n} cordoned"
        if self.reason == IMAGE_PLATFORMS:
            return f"{n} {self.detail}"
        if self.reason == NODE_SELECTOR:
            return f"{n} not matching the nodeSelector"
        if self.reason == AFFINITY:
            return f"{n} not matching the required node affinity"
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


# -- node affinity ------------------------------------------------------------------------------


def _strings(value: Any) -> list[str] | None:
    """A requirement's values; None when they are not a list (the requirement is invalid)."""
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        return None
    return ["" if v is None else str(v) for v in value]


def _go_int(text: str) -> int | None:
    if not _GO_INT.fullmatch(text):
        return None
    number = int(text)
    return number if -(2**63) <= number < 2**63 else None


def requirement_matches(operator: Any, values: Sequence[str], label: str | None) -> bool:
    """A NodeSelectorRequirement against one label (``None``: the node has no such label).
    Invalid requirements match nothing, as the scheduler cannot parse them."""
    if operator == "In":
        return bool(values) and label is not None and label in values
    if operator == "NotIn":
        return bool(values) and (label is None or label not in values)
    if operator == "Exists":
        return not values and label is not None
    if operator == "DoesNotExist":
        return not values and label is None
    if operator in ("Gt", "Lt") and len(values) == 1 and label is not None:
        bound, actual = _go_int(values[0]), _go_int(label)
        if bound is None or actual is None:
            return False
        return actual > bound if operator == "Gt" else actual < bound
    return False


def _expression_matches(expression: Any, labels: Mapping[str, str]) -> bool:
    if not isinstance(expression, Mapping) or not isinstance(expression.get("key"), str):
        return False
    values = _strings(expression.get("values"))
    return values is not None and requirement_matches(
        expression.get("operator"), values, labels.get(expression["key"])
    )


def _field_matches(requirement: Any, name: str) -> bool:
    if not isinstance(requirement, Mapping):
        return False
    values = _strings(requirement.get("values"))
    operator = requirement.get("operator")
    if requirement.get("key") != NODE_NAME_FIELD or operator not in ("In", "NotIn") or values is None:
        return False
    if len(values) != 1:
        return False
    return (name == values[0]) == (operator == "In")


def _sequence(value: Any) -> Sequence[Any]:
    return value if isinstance(value, Sequence) and not isinstance(value, str) else ()


def term_matches(term: Any, labels: Mapping[str, str], name: str) -> bool:
    """One NodeSelectorTerm; a null or empty term matches nothing."""
    if not isinstance(term, Mapping):
        return False
    expressions = _sequence(term.get("matchExpressions"))
    fields = _sequence(term.get("matchFields"))
    if not expressions and not fields:
        return False
    return all(_expression_matches(e, labels) for e in expressions) and all(
        _field_matches(f, name) for f in fields
    )


def selector_matches(pod_spec: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    selector = pod_spec.get("nodeSelector")
    if not isinstance(selector, Mapping):
        return True
    return all(labels.get(str(k)) == ("" if v is None else str(v)) for k, v in selector.items())


def affinity_matches(pod_spec: Mapping[str, Any], labels: Mapping[str, str], name: str) -> bool:
    """The required node affinity; missing or null levels impose nothing, and a required node
    selector without terms matches no node (as kube-scheduler's NodeSelector.Match)."""
    level: Any = pod_spec
    for key in ("affinity", "nodeAffinity", REQUIRED):
        level = level.get(key) if isinstance(level, Mapping) else None
        if level is None:
            return True
    terms = _sequence(level.get("nodeSelectorTerms")) if isinstance(level, Mapping) else ()
    return any(term_matches(t, labels, name) for t in terms)


# -- fitting ------------------------------------------------------------------------------------


def _tolerations(pod_spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [t for t in _sequence(pod_spec.get("tolerations")) if isinstance(t, Mapping)]


def _image_gap(platform: tuple[str, str], images: Mapping[str, frozenset[tuple[str, str]]]) -> str | None:
    missing = [image for image, nodes in images.items() if platform not in nodes]
    if not missing:
        return None
    which = f"{'image' if len(missing) == 1 else 'images'} {', '.join(missing)}"
    return f"run {format_platform(platform)}, which {which} cannot run on"


def fit(
    pod_spec: Mapping[str, Any], images: Mapping[str, Iterable[Platform]], nodes: Iterable[NodeInfo]
) -> Fit:
    """The Ready nodes a pod fits and, for the others, the first filter each fails."""
    node_platforms = {image: frozenset(p.node for p in platforms) for image, platforms in images.items()}
    tolerations = _tolerations(pod_spec)
    fitting: list[str] = []
    platforms: set[tuple[str, str]] = set()
    counts: dict[tuple[str, str], int] = {}
    total = 0
    for node in nodes:
        total += 1
        rejection = _reject(node, pod_spec, node_platforms, tolerations)
        if rejection is None:
            fitting.append(node.name)
            platforms.add(node.platform)
        else:
            counts[rejection] = counts.get(rejection, 0) + 1
    order = {reason: i for i, reason in enumerate(REASONS)}
    rejections = sorted(
        (Rejection(reason, detail, n) for (reason, detail), n in counts.items()),
        key=lambda r: (order[r.reason], -r.nodes, r.detail),
    )
    return Fit(tuple(fitting), frozenset(platforms), total, tuple(rejections))


def _reject(
    node: NodeInfo,
    pod_spec: Mapping[str, Any],
    images: Mapping[str, frozenset[tuple[str, str]]],
    tolerations: Sequence[Mapping[str, Any]],
) -> tuple[str, str] | None:
    if not node.ready:
        return (NOT_READY, "")
    if node.cordoned and not any(tolerates(t, UNSCHEDULABLE_TAINT) for t in tolerations):
        return (CORDONED, "")
    gap = _image_gap(node.platform, images)
    if gap is not None:
        return (IMAGE_PLATFORMS, gap)
    if not selector_matches(pod_spec, node.labels):
        return (NODE_SELECTOR, "")
    if not affinity_matches(pod_spec, node.labels, node.name):
        return (AFFINITY, "")
    for taint in node.taints:
        if not any(tolerates(t, taint) for t in tolerations):
            return (UNTOLERATED_TAINT, str(taint))
    return None
