"""What kubectl-arch keeps of a Node: pure functions from API objects (plain JSON data) to
:class:`NodeInfo` records. No I/O; :mod:`.cluster` does the reading.

A node's platform is what the scheduler matches: its ``kubernetes.io/os`` and
``kubernetes.io/arch`` labels, else the ``beta.kubernetes.io/*`` labels of older kubelets,
else what the kubelet reports in ``status.nodeInfo``. Label values are kept as written
(the scheduler compares them literally). Disagreements between these sources are reported.
A Windows node's build is its ``node.kubernetes.io/windows-build`` label (``10.0.17763``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from ..platforms import HostBuilds
from . import quantity

OS_LABEL = "kubernetes.io/os"
WINDOWS_BUILD_LABEL = "node.kubernetes.io/windows-build"
ARCH_LABEL = "kubernetes.io/arch"
BETA_OS_LABEL = "beta.kubernetes.io/os"
BETA_ARCH_LABEL = "beta.kubernetes.io/arch"
# Labels naming a node's pool, in order of preference: GKE, EKS, AKS, Karpenter, then the
# instance type (what every cloud sets) as the last resort.
POOL_LABELS = (
    "cloud.google.com/gke-nodepool",
    "eks.amazonaws.com/nodegroup",
    "agentpool",
    "kubernetes.azure.com/agentpool",
    "karpenter.sh/nodepool",
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
)
NO_POOL = "<none>"
BLOCKING_EFFECTS = ("NoSchedule", "NoExecute")


class Taint(NamedTuple):
    key: str
    value: str
    effect: str

    def __str__(self) -> str:
        return f"{self.key}={self.value}:{self.effect}" if self.value else f"{self.key}:{self.effect}"


class NodeInfo(NamedTuple):
    name: str
    os: str  # "" when nothing says
    architecture: str
    ready: bool
    cordoned: bool  # spec.unschedulable
    taints: tuple[Taint, ...]  # NoSchedule and NoExecute only: those keep pods off
    cpu: quantity.Quantity | None  # allocatable
    memory: quantity.Quantity | None
    pool: str
    labels: Mapping[str, str]
    windows_build: str = ""  # node.kubernetes.io/windows-build, "" when absent

    @property
    def platform(self) -> tuple[str, str]:
        return (self.os, self.architecture)

    @property
    def platform_spec(self) -> str:
        """The platform for messages, with a Windows node's build as containerd writes it:
        ``windows(10.0.20348)/amd64``, ``linux/arm64``."""
        return format_platform(self.platform, self.windows_build)

    @property
    def schedulable(self) -> bool:
        """Ready and not cordoned."""
        return self.ready and not self.cordoned


class NodeError(ValueError):
    """A Node object too malformed to read."""


def _mapping(value: Any) -> Mapping[str, Any]:
    if type(value) is dict:  # what JSON gives: skip the slower check against the Mapping ABC
        return value
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _platform_value(
    name: str, labels: Mapping[str, str], info: Mapping[str, Any], axis: str, warnings: list[str]
) -> str:
    """The value of one axis ("os" or "arch"), with warnings when sources disagree."""
    ga_key, beta_key = (OS_LABEL, BETA_OS_LABEL) if axis == "os" else (ARCH_LABEL, BETA_ARCH_LABEL)
    info_key = "operatingSystem" if axis == "os" else "architecture"
    ga, beta, reported = _text(labels.get(ga_key)), _text(labels.get(beta_key)), _text(info.get(info_key))
    if ga:
        value, key = ga, ga_key
    elif beta:
        value, key = beta, beta_key
    elif reported:
        return reported
    else:
        warnings.append(f"node {name}: no {ga_key} label and no status.nodeInfo.{info_key}; platform unknown")
        return ""
    if ga and beta and beta != ga:
        warnings.append(f"node {name}: label {beta_key}={beta} disagrees with {ga_key}={ga}; using {ga}")
    if reported and reported != value:
        warnings.append(
            f"node {name}: label {key}={value} disagrees with status.nodeInfo.{info_key}={reported}; "
            f"using the label (what the scheduler matches)"
        )
    return value


def _quantity(
    name: str, resources: Mapping[str, Any], key: str, warnings: list[str]
) -> quantity.Quantity | None:
    raw = resources.get(key)
    if raw is None:
        return None
    try:
        return quantity.parse(str(raw))
    except quantity.QuantityError:
        shown = repr(raw) if len(str(raw)) <= 40 else f"{str(raw)[:20]!r}... ({len(str(raw))} characters)"
        warnings.append(f"node {name}: status.allocatable.{key} {shown} is not a quantity; not counted")
        return None


def pool_of(labels: Mapping[str, str]) -> str:
    for key in POOL_LABELS:
        value = labels.get(key)
        if isinstance(value, str) and value:
            return value
    return NO_POOL


def _ready(status: Mapping[str, Any]) -> bool:
    conditions = status.get("conditions")
    for condition in conditions if isinstance(conditions, list) else ():
        if isinstance(condition, dict) and condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def _taints(spec: Mapping[str, Any]) -> tuple[Taint, ...]:
    raw = spec.get("taints")
    out: list[Taint] = []
    for taint in raw if isinstance(raw, list) else ():
        if not isinstance(taint, Mapping):
            continue
        effect = _text(taint.get("effect"))
        if effect in BLOCKING_EFFECTS:
            out.append(Taint(_text(taint.get("key")), _text(taint.get("value")), effect))
    return tuple(out)


def from_object(obj: Any, warnings: list[str]) -> NodeInfo:
    """A Node object (plain JSON data) as a NodeInfo; findings are appended to ``warnings``."""
    if not isinstance(obj, Mapping):
        from ..shapes import describe

        raise NodeError(f"expected a Node object, got {describe(obj)}")
    metadata, spec, status = (_mapping(obj.get(k)) for k in ("metadata", "spec", "status"))
    name = _text(metadata.get("name")) or "<unnamed>"
    raw_labels = _mapping(metadata.get("labels"))
    # null is "" (Go's map[string]string); keys or values of other types are left out.
    labels = {
        k: "" if v is None else v
        for k, v in raw_labels.items()
        if type(k) is str and type(v) in (str, type(None))
    }
    if len(labels) < len(raw_labels):  # never from an API server (labels are strings): a hand-made file
        left_out = len(raw_labels) - len(labels)
        warnings.append(f"node {name}: {left_out} label(s) whose key or value is not a string left out")
    info = _mapping(status.get("nodeInfo"))
    os = _platform_value(name, labels, info, "os", warnings)
    arch = _platform_value(name, labels, info, "arch", warnings)
    allocatable = _mapping(status.get("allocatable"))
    return NodeInfo(
        name=name,
        os=os,
        architecture=arch,
        ready=_ready(status),
        cordoned=spec.get("unschedulable") is True,
        taints=_taints(spec),
        cpu=_quantity(name, allocatable, "cpu", warnings),
        memory=_quantity(name, allocatable, "memory", warnings),
        pool=pool_of(labels),
        labels=labels,
        windows_build=labels.get(WINDOWS_BUILD_LABEL, "") if os == "windows" else "",
    )


def format_platform(platform: tuple[str, str], build: str = "") -> str:
    """``linux/amd64``; ``unknown`` for a missing part; a Windows build in parentheses."""
    os, arch = platform
    return f"{os or 'unknown'}{f'({build})' if build else ''}/{arch or 'unknown'}"


def windows_builds(nodes: Iterable[NodeInfo]) -> dict[tuple[str, str], HostBuilds]:
    """The builds of the Ready Windows nodes, per platform (``pin --cluster``'s bound). A node
    without a ``node.kubernetes.io/windows-build`` label adds none: its build is unknown, so it
    is counted for no image that names a build (as ``check`` counts it), and a platform whose
    nodes all lack the label allows no such image."""
    builds: dict[tuple[str, str], set[str]] = {}
    for node in nodes:
        if node.ready and node.os == "windows":
            found = builds.setdefault(node.platform, set())
            if node.windows_build:
                found.add(node.windows_build)
    return {p: HostBuilds(frozenset(b)) for p, b in builds.items()}


def lacking_windows_build(nodes: Iterable[NodeInfo]) -> str | None:
    """One warning about the Ready Windows nodes without a ``node.kubernetes.io/windows-build``
    label, or None: their build is unknown, so images built for a Windows build (with an
    ``os.version``) are not counted on them, and pods pinned to builds do not schedule there."""
    lacking = sum(1 for n in nodes if n.ready and n.os == "windows" and not n.windows_build)
    if not lacking:
        return None
    return (
        f"{lacking} Ready Windows node(s) carry no {WINDOWS_BUILD_LABEL} label: their build is unknown, so "
        "images built for a Windows build (with an os.version) are not counted as fitting them, and pods "
        "pinned to builds do not schedule there; the kubelet sets the label (kubectl get nodes "
        f"-L {WINDOWS_BUILD_LABEL})"
    )


def lacking_ga_labels(nodes: Iterable[NodeInfo]) -> str | None:
    """One warning about the Ready nodes that carry only the beta platform labels, or None.

    ``nodes`` and ``check`` count them by platform, but a pod pinned with ``kubernetes.io/os``
    or ``kubernetes.io/arch`` does not schedule there, whatever its images.
    """
    counts = {OS_LABEL: 0, ARCH_LABEL: 0}
    lacking = 0
    for node in nodes:
        if not node.ready:
            continue
        missing = [key for key in counts if not node.labels.get(key)]
        for key in missing:
            counts[key] += 1
        lacking += bool(missing)
    if not lacking:
        return None
    keys = " or ".join(key for key, n in counts.items() if n)
    return (
        f"{lacking} Ready node(s) carry no {keys} label (only beta.kubernetes.io labels or "
        "status.nodeInfo say their platform): they are counted by those, but pods pinned to "
        f"{OS_LABEL} and {ARCH_LABEL} do not schedule on them; label them "
        f"(kubectl label node NAME {OS_LABEL}=OS {ARCH_LABEL}=ARCH)"
    )
