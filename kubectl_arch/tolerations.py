"""Tolerations for platform taints: a pure transform from a pod spec to patch operations.

Clusters often keep pods off some platforms with a taint: GKE taints arm64 nodes
``kubernetes.io/arch=arm64:NoSchedule`` and Windows nodes ``node.kubernetes.io/os=windows:
NoSchedule``. Once a pod is pinned to platforms its images support, it can tolerate the
platform taints of exactly those platforms. :func:`plan` adds the missing tolerations and
nothing else: never one for a platform the pod cannot run on, never when an existing
toleration already tolerates the taint, and never changing or removing an existing one.

Platform taints are those whose key is a platform label (:data:`PLATFORM_KEYS`). They are
either found on a cluster's nodes (each belongs to the platform of the nodes carrying it) or
declared (``--arch-taint kubernetes.io/arch=arm64:NoSchedule``: it belongs to the platforms
whose architecture, or OS for an OS key, is its value).

Operations use the format of :mod:`.affinity` (paths relative to the pod spec):
``("add", ("tolerations",), [...])`` when there is no ``tolerations`` key,
``("replace", ("tolerations",), [...])`` when it is null or empty, and
``("add", ("tolerations", "-"), item)`` per toleration appended to an existing list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from .cluster.nodeinfo import NodeInfo, Taint
from .shapes import wrong

NodePlatform = tuple[str, str]
Op = tuple[Any, ...]

ARCH_KEYS = ("kubernetes.io/arch", "beta.kubernetes.io/arch")
OS_KEYS = ("kubernetes.io/os", "beta.kubernetes.io/os", "node.kubernetes.io/os")
PLATFORM_KEYS = ARCH_KEYS + OS_KEYS
EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


class TolerationError(ValueError):
    """The pod spec's tolerations are malformed; ``field`` says where (relative to the pod spec)."""

    def __init__(self, field: str, message: str) -> None:
        from .shapes import joined

        super().__init__(joined(field, message))
        self.field = field


class TaintError(ValueError):
    """A taint given on the command line or in a config cannot be parsed."""


def parse_taint(text: str) -> Taint:
    """``KEY[=VALUE]:EFFECT``, as ``kubectl taint`` writes taints."""
    spec, sep, effect = text.strip().rpartition(":")
    if not sep or not spec:
        raise TaintError(
            f"invalid taint {text!r}: expected KEY[=VALUE]:EFFECT, e.g. kubernetes.io/arch=arm64:NoSchedule"
        )
    if effect not in EFFECTS:
        raise TaintError(f"invalid taint {text!r}: effect must be one of {', '.join(EFFECTS)}")
    key, _, value = spec.partition("=")
    if not key:
        raise TaintError(f"invalid taint {text!r}: empty key")
    return Taint(key, value, effect)


def parse_arch_taint(text: str) -> Taint:
    """A declared platform taint: a platform key, a value naming the platform, an effect."""
    taint = parse_taint(text)
    if taint.key not in PLATFORM_KEYS:
        raise TaintError(f"invalid arch taint {text!r}: the key must be one of {', '.join(PLATFORM_KEYS)}")
    if not taint.value:
        raise TaintError(
            f"invalid arch taint {text!r}: give the value it has on the nodes, e.g. {taint.key}="
            f"{'arm64' if taint.key in ARCH_KEYS else 'windows'}:{taint.effect}"
        )
    return taint


def belongs_to(taint: Taint, platform: NodePlatform) -> bool:
    """Whether a declared platform taint is one that nodes of ``platform`` carry."""
    if taint.key in ARCH_KEYS:
        return taint.value == platform[1]
    if taint.key in OS_KEYS:
        return taint.value == platform[0]
    return False


class ArchTaints(NamedTuple):
    """The platform taints to tolerate, per platform."""

    found: Mapping[NodePlatform, frozenset[Taint]] = {}  # on the cluster's nodes of each platform
    declared: tuple[Taint, ...] = ()  # --arch-taint

    def for_platforms(self, platforms: Iterable[NodePlatform]) -> list[Taint]:
        wanted = set(platforms)
        taints: set[Taint] = set()
        for platform in wanted:
            taints |= self.found.get(platform, frozenset())
        taints.update(t for t in self.declared if any(belongs_to(t, p) for p in wanted))
        return sorted(taints)


def taint_problem(taint: Taint) -> str:
    """Why a taint is not one the API server would hold (its key a label key, its value a label
    value: ``validateTaints``), or ""."""
    from .nodeselector import label_key_problem, label_value_problem

    return label_key_problem(taint.key) or label_value_problem(taint.value)


def found_on(
    nodes: Iterable[NodeInfo], warnings: list[str] | None = None
) -> dict[NodePlatform, frozenset[Taint]]:
    """The platform taints of Ready nodes, per node platform. A taint no API server would hold
    (a key or value that is not a valid label key or value: what a faulty or hostile server
    may send) is left out, with a warning naming the node in ``warnings``: it would be copied
    into the tolerations written."""
    out: dict[NodePlatform, set[Taint]] = {}
    for node in nodes:
        if not node.ready:
            continue
        for taint in node.taints:
            if taint.key not in PLATFORM_KEYS and not taint.key.startswith(PLATFORM_KEYS):
                continue
            problem = taint_problem(taint)
            if problem:
                if warnings is not None:
                    warnings.append(
                        f"node {node.name}: taint {taint} is not a valid taint ({problem}); not tolerated"
                    )
                continue
            if taint.key in PLATFORM_KEYS:
                out.setdefault(node.platform, set()).add(taint)
    return {p: frozenset(t) for p, t in out.items()}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def tolerates(toleration: Mapping[str, Any], taint: Taint) -> bool:
    """Kubernetes' ``Toleration.ToleratesTaint``: effect (empty: any), key (empty: any), then
    ``Exists`` matches any value and ``Equal`` (or no operator) the same value."""
    effect = _text(toleration.get("effect"))
    if effect and effect != taint.effect:
        return False
    key = _text(toleration.get("key"))
    if key and key != taint.key:
        return False
    operator = _text(toleration.get("operator"))
    if operator in ("", "Equal"):
        return _text(toleration.get("value")) == taint.value
    return operator == "Exists"


# Tolerations the API server and controllers add to pods, whatever the manifest says.
# The DefaultTolerationSeconds admission plugin (on by default) gives every pod these, for 300s;
# a toleration with tolerationSeconds still lets the scheduler place the pod.
ADMISSION_TOLERATIONS: tuple[dict[str, str], ...] = tuple(
    {"key": f"node.kubernetes.io/{key}", "operator": "Exists", "effect": "NoExecute"}
    for key in ("not-ready", "unreachable")
)
# The DaemonSet controller (AddOrUpdateDaemonPodTolerations) gives its pods these, so that a
# daemon runs on nodes that are cordoned or under pressure; network-unavailable only to pods
# on the host network.
DAEMONSET_TOLERATIONS: tuple[dict[str, str], ...] = (
    *ADMISSION_TOLERATIONS,
    *(
        {"key": f"node.kubernetes.io/{key}", "operator": "Exists", "effect": "NoSchedule"}
        for key in ("disk-pressure", "memory-pressure", "pid-pressure", "unschedulable")
    ),
)
HOST_NETWORK_DAEMONSET_TOLERATION = {
    "key": "node.kubernetes.io/network-unavailable",
    "operator": "Exists",
    "effect": "NoSchedule",
}


def implied(kind: str, pod_spec: Mapping[str, Any]) -> list[dict[str, str]]:
    """The tolerations a pod of a workload of ``kind`` gets beyond those of its spec: every
    pod the admission plugin's, and a DaemonSet's pods the controller's (any API group: the
    DaemonSets of other controllers, such as OpenKruise's, add the same). No other built-in
    kind adds any."""
    if kind != "DaemonSet":
        return list(ADMISSION_TOLERATIONS)
    extra = list(DAEMONSET_TOLERATIONS)
    host_network = pod_spec.get("hostNetwork")  # plain scalars come as text, typed by YAML 1.1
    if host_network is True or host_network in (
        "y",
        "Y",
        "yes",
        "Yes",
        "YES",
        "true",
        "True",
        "TRUE",
        "on",
        "On",
        "ON",
    ):
        extra.append(HOST_NETWORK_DAEMONSET_TOLERATION)
    return extra


def toleration_for(taint: Taint) -> dict[str, str]:
    """The narrowest toleration of ``taint``: it tolerates that key, value and effect only
    (``Equal`` with an empty value matches only taints without a value; ``Exists`` would
    match every value)."""
    return {"key": taint.key, "operator": "Equal", "value": taint.value, "effect": taint.effect}


def existing(pod_spec: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    """The pod spec's tolerations, checked to be a list of mappings."""
    raw = pod_spec.get("tolerations")
    if raw is None:
        return ()
    if isinstance(raw, str) or not isinstance(raw, Sequence):
        raise TolerationError("tolerations", wrong(raw, "a list"))
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise TolerationError(f"tolerations[{i}]", wrong(item, "a mapping"))
    return raw


class Plan(NamedTuple):
    ops: tuple[Op, ...]
    added: tuple[dict[str, str], ...]  # the tolerations the operations add


def plan(pod_spec: Mapping[str, Any], admitted: Iterable[NodePlatform], taints: ArchTaints) -> Plan:
    """Operations adding a toleration for every platform taint of the ``admitted`` platforms
    that no existing toleration tolerates."""
    current = existing(pod_spec)
    added: list[dict[str, str]] = []
    for taint in taints.for_platforms(admitted):
        if any(tolerates(t, taint) for t in current) or any(tolerates(t, taint) for t in added):
            continue
        added.append(toleration_for(taint))
    if not added:
        return Plan((), ())
    if "tolerations" not in pod_spec:
        ops: tuple[Op, ...] = (("add", ("tolerations",), added),)
    elif not current:
        ops = (("replace", ("tolerations",), added),)
    else:
        ops = tuple(("add", ("tolerations", "-"), t) for t in added)
    return Plan(ops, tuple(added))
