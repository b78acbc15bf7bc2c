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
5. image platforms: every image has an entry for the node's os and architecture and, on a
   Windows node, one its build runs (:func:`~.platforms.windows_runs`).

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

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from .cluster.nodeinfo import NodeInfo, Taint
from .platforms import Platform, windows_runs
from .tolerations import tolerates

REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
UNSCHEDULABLE_TAINT = Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")
NODE_NAME_FIELD = "metadata.name"
OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
_GO_INT = re.compile(r"[+-]?[0-9]+")
# apimachinery's validation: a qualified name (label key name part), a DNS-1123 subdomain
# (label key prefix) and a label value.
_QUALIFIED_NAME = re.compile(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*")
_LABEL_VALUE = re.compile(r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?")

# Reasons, in the order the filters run.
NOT_READY = "not Ready"
CORDONED = "cordoned"
UNTOLERATED_TAINT = "untolerated taint"
NODE_SELECTOR = "nodeSelector"
AFFINITY = "affinity"
IMAGE_PLATFORMS = "image platforms"
REASONS = (NOT_READY, CORDONED, UNTOLERATED_TAINT, NODE_SELECTOR, AFFINITY, IMAGE_PLATFORMS)


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
        if self.reason == IMAGE_PLATFORMS:
            return f"{n} {self.detail}"
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


def label_key_problem(key: str) -> str:
    """Why ``key`` is not a valid label key (apimachinery's ``IsQualifiedName``), or ""."""
    parts = key.split("/")
    if len(parts) > 2:
        return f"key {key!r} is not a qualified name (at most one '/')"
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix or len(prefix) > 253 or not _DNS1123_SUBDOMAIN.fullmatch(prefix):
            return f"key {key!r}: prefix {prefix!r} is not a DNS subdomain"
    if not name or len(name) > 63 or not _QUALIFIED_NAME.fullmatch(name):
        return f"key {key!r} is not a valid label key"
    return ""


def label_value_problem(value: str) -> str:
    """Why ``value`` is not a valid label value (apimachinery's ``IsValidLabelValue``), or ""."""
    if len(value) > 63 or not _LABEL_VALUE.fullmatch(value):
        return f"{value!r} is not a valid label value"
    return ""


def _go_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 10, 64)``: an optional sign and ASCII digits, in int64 range."""
    if not _GO_INT.fullmatch(text):
        return None
    number = int(text)
    return number if -(2**63) <= number < 2**63 else None


def requirement_problem(operator: Any, values: Sequence[str]) -> str:
    """Why the scheduler cannot parse a requirement with this operator and these values
    (``labels.NewRequirement``), or ""."""
    if operator not in OPERATORS:
        return f"unsupported operator {operator!r}"
    if operator in ("In", "NotIn") and not values:
        return f"{operator} needs values"
    if operator in ("Exists", "DoesNotExist") and values:
        return f"{operator} takes no values"
    if operator in ("Gt", "Lt"):
        if len(values) != 1:
            return f"{operator} needs exactly one value"
        if _go_int(values[0]) is None:
            return f"{operator} value {values[0]!r} is not an integer"
    for value in values:
        problem = label_value_problem(value)
        if problem:
            return problem
    return ""


def requirement_matches(operator: Any, values: Sequence[str], label: str | None) -> bool:
    """A NodeSelectorRequirement against one label (``None``: the node has no such label).
    A requirement the scheduler cannot parse matches nothing."""
    if requirement_problem(operator, values):
        return False
    return _holds(operator, values, label)


def _holds(operator: str, values: Sequence[str], label: str | None) -> bool:
    """A parsed requirement against one label (``labels.Requirement.Matches``)."""
    if operator == "In":
        return label is not None and label in values
    if operator == "NotIn":
        return label is None or label not in values
    if operator == "Exists":
        return label is not None
    if operator == "DoesNotExist":
        return label is None
    if label is None:
        return False
    actual = _go_int(label)
    if actual is None:
        return False
    bound = _go_int(values[0])
    assert bound is not None  # parsed
    return actual > bound if operator == "Gt" else actual < bound


def _strings(value: Any) -> list[str] | None:
    """A requirement's values; None when they are not a list (the requirement is invalid)."""
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        return None
    return ["" if v is None else str(v) for v in value]


def _sequence(value: Any) -> Sequence[Any] | None:
    """A list, ``()`` for null; None when it is something else."""
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        return None
    return value


class _Term(NamedTuple):
    expressions: tuple[tuple[str, str, tuple[str, ...]], ...]  # (key, operator, values)
    fields: tuple[tuple[str, str, str], ...]  # (key, operator, value)
    problem: str  # why the scheduler cannot parse it ("" when it can)


def _expression(raw: Any, where: str) -> tuple[tuple[str, str, tuple[str, ...]] | None, str]:
    if not isinstance(raw, Mapping):
        return None, f"{where} is not a mapping"
    key = raw.get("key")
    key = "" if key is None else str(key)
    values = _strings(raw.get("values"))
    if values is None:
        return None, f"{where}.values is not a list"
    operator = raw.get("operator")
    problem = label_key_problem(key) or requirement_problem(operator, values)
    if problem:
        return None, f"{where}: {problem}"
    return (key, str(operator), tuple(values)), ""


def _field(raw: Any, where: str) -> tuple[tuple[str, str, str] | None, str]:
    if not isinstance(raw, Mapping):
        return None, f"{where} is not a mapping"
    values = _strings(raw.get("values"))
    operator = raw.get("operator")
    if values is None:
        return None, f"{where}.values is not a list"
    if operator not in ("In", "NotIn"):
        return None, f"{where}: unsupported operator {operator!r} (In or NotIn)"
    if len(values) != 1:
        return None, f"{where}: {operator} needs exactly one value"
    key = raw.get("key")
    return ("" if key is None else str(key), str(operator), values[0]), ""


def _term(raw: Any, where: str) -> _Term | None:
    """A parsed term; None for an empty one (it matches nothing and is skipped)."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        return _Term((), (), f"{where} is not a mapping")
    raw_exprs = _sequence(raw.get("matchExpressions"))
    raw_fields = _sequence(raw.get("matchFields"))
    if raw_exprs is None or raw_fields is None:
        which = "matchExpressions" if raw_exprs is None else "matchFields"
        return _Term((), (), f"{where}.{which} is not a list")
    if not raw_exprs and not raw_fields:
        return None
    parsed = [_expression(item, f"{where}.matchExpressions[{j}]") for j, item in enumerate(raw_exprs)]
    found = [_field(item, f"{where}.matchFields[{j}]") for j, item in enumerate(raw_fields)]
    problems = [problem for _, problem in (*parsed, *found) if problem]
    return _Term(
        tuple(e for e, _ in parsed if e is not None),
        tuple(f for f, _ in found if f is not None),
        problems[0] if problems else "",
    )


def _term_matches(term: _Term, labels: Mapping[str, str], name: str) -> bool:
    if term.problem:
        return False
    for key, operator, values in term.expressions:
        if not _holds(operator, values, labels.get(key)):
            return False
    if term.fields and name:  # the node's fields: only metadata.name, when it has one
        for key, operator, value in term.fields:
            actual = name if key == NODE_NAME_FIELD else ""
            if (actual == value) != (operator == "In"):
                return False
    return True


class Placement(NamedTuple):
    """What a pod spec requires of a node's labels and name (kube-scheduler's NodeAffinity
    filter: ``nodeSelector`` and required node affinity), parsed once for many nodes."""

    selector: tuple[tuple[str, str], ...] | None  # None: nodeSelector is not a mapping
    terms: tuple[_Term, ...] | None  # None: no required node affinity
    problem: str  # why the required node affinity matches no node at all ("" otherwise)

    def selector_matches(self, labels: Mapping[str, str]) -> bool:
        if self.selector is None:
            return False
        return all(labels.get(key) == value for key, value in self.selector)

    def affinity_matches(self, labels: Mapping[str, str], name: str) -> bool:
        if self.terms is None:
            return not self.problem
        return any(_term_matches(t, labels, name) for t in self.terms)

    def matches(self, labels: Mapping[str, str], name: str) -> bool:
        return self.selector_matches(labels) and self.affinity_matches(labels, name)


def placement(pod_spec: Mapping[str, Any]) -> Placement:
    """Parse a pod spec's ``nodeSelector`` and required node affinity as the scheduler does."""
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
    terms = [_term(t, f"term {i}") for i, t in enumerate(raw_terms)]
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
    architecture (variants are not labelled, so not compared) and, on a Windows node with a
    ``node.kubernetes.io/windows-build`` label, an ``os.version`` that build runs."""
    for p in platforms:
        if p.node == node.platform and (
            node.os != "windows" or windows_runs(node.windows_build, p.os_version)
        ):
            return True
    return False


def fit(
    pod_spec: Mapping[str, Any],
    images: Mapping[str, Iterable[Platform]],
    nodes: Iterable[NodeInfo],
    weights: Sequence[int] | None = None,
) -> Fit:
    """The Ready nodes a pod fits and, for the others, the first filter each fails.

    ``weights``: each node stands for that many nodes (alike but for their names), in the
    counts; ``nodes`` of the result then lists the representatives that fit."""
    per_image = {image: tuple(platforms) for image, platforms in images.items()}
    rules = placement(pod_spec)
    tolerations = _tolerations(pod_spec)
    gaps: dict[tuple[str, str, str], str | None] = {}
    fitting: list[str] = []
    platforms: set[tuple[str, str]] = set()
    counts: dict[tuple[str, str], int] = {}
    total = 0
    for i, node in enumerate(nodes):
        weight = weights[i] if weights is not None else 1
        total += weight
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
    order = {reason: i for i, reason in enumerate(REASONS)}
    rejections = sorted(
        (Rejection(reason, detail, n) for (reason, detail), n in counts.items()),
        key=lambda r: (order[r.reason], -r.nodes, r.detail),
    )
    return Fit(tuple(fitting), frozenset(platforms), total, tuple(rejections))


def _image_gap(node: NodeInfo, images: Mapping[str, Sequence[Platform]]) -> str | None:
    missing = [image for image, platforms in images.items() if not image_runs(platforms, node)]
    if not missing:
        return None
    which = f"{'image' if len(missing) == 1 else 'images'} {', '.join(missing)}"
    return f"run {node.platform_spec}, which {which} cannot run on"


def _reject(
    node: NodeInfo, rules: Placement, tolerations: Sequence[Mapping[str, Any]]
) -> tuple[str, str] | None:
    if not node.ready:
        return (NOT_READY, "")
    if node.cordoned and not any(tolerates(t, UNSCHEDULABLE_TAINT) for t in tolerations):
        return (CORDONED, "")
    for taint in node.taints:
        if not any(tolerates(t, taint) for t in tolerations):
            return (UNTOLERATED_TAINT, str(taint))
    if not rules.selector_matches(node.labels):
        return (NODE_SELECTOR, "" if rules.selector is not None else "nodeSelector is not a mapping")
    if not rules.affinity_matches(node.labels, node.name):
        return (AFFINITY, rules.problem)
    return None
