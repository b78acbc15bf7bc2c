"""What runs in a cluster, where it can run, what is at risk: the judgement of ``kubectl arch
audit``. Pure: workloads (:class:`.cluster.owners.Workload`), image answers, nodes and
target platforms in; one :class:`Finding` per workload, a :class:`Summary` and the
``audit -o json`` document out. No I/O.

A workload's status is the first of these that holds:

* ``broken``: a pod of it is assigned to a node whose platform some image of the pod cannot
  run on (:func:`.fit.image_runs`: os, architecture and, on Windows, the host build): it is
  failing now (``exec format error``, ``no match for platform in manifest``) or will on
  restart. Succeeded pods are left out: they ran.
* ``unschedulable``: some pod template of it fits no Ready node (:func:`.fit.fit`: the
  scheduler's filters, then the image platforms), as ``check`` decides.
* ``unknown``: an image could not be looked up, and nothing above is certain without it
  (a broken pod or a template that fits nowhere is certain whatever that image supports).
* ``at-risk``: it fits, but some Ready node that its own constraints and tolerations admit
  runs a platform its images lack, so the scheduler may put a pod there (the unpinned
  workload in a mixed cluster; for a DaemonSet, a pod there is certain).
* ``ok``.

A DaemonSet is judged over the nodes its own nodeSelector, affinity and tolerations admit,
as the DaemonSet controller picks them (:func:`.fit.daemon_nodes`): when they admit no node
at all it wants no pods (a GPU plugin on a cluster without GPUs), which is ``ok`` with a
note. Every other kind is judged by its pod template whatever its replica count: a
Deployment scaled to 0 makes pods from it when scaled up again.

A workload whose object (or a pod of it) could not be read (a pod spec that is not what the
API server keeps: ``containers`` a mapping, no pod template, a container without an image, a
pod without containers) is ``unknown``, its ``error`` in the manifest reader's words (those
``pin`` gives): nothing about it can be judged, and it is never ``ok`` nor ``ready``.

A workload with no template left to make pods from (a Pod already assigned to a node, or pods
whose controller was not read) is judged from its pods alone: broken, unknown or ok.

With target platforms (``--target``), each workload is ``ready`` for a target when all its
images support it (:func:`.platforms.matches`, with variant fall-back: an arm/v7 node runs an
arm/v6 image), else blocked by the images that lack it, each with the newer tag found that
has it, if any ("supported with update").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from . import fit as fitting
from . import platforms as plat
from . import tolerations
from .cluster.nodeinfo import NodeInfo, format_platform
from .cluster.owners import Workload
from .platforms import Platform

BROKEN, UNSCHEDULABLE, UNKNOWN, AT_RISK, OK = "broken", "unschedulable", "unknown", "at-risk", "ok"
STATUSES = (BROKEN, UNSCHEDULABLE, UNKNOWN, AT_RISK, OK)
PROBLEMS = frozenset({BROKEN, UNSCHEDULABLE, AT_RISK})
HOSTNAME_LABEL = "kubernetes.io/hostname"


class Image(NamedTuple):
    """What is known of one image reference: its platforms (None: could not be looked up,
    ``error`` says why), and the digests the reference now names (the index or manifest, and
    the manifests of its platforms)."""

    platforms: frozenset[Platform] | None
    error: str = ""
    digest: str = ""
    digests: frozenset[str] = frozenset()


class ImageFinding(NamedTuple):
    container: str
    image: str
    answer: Image
    stale: tuple[tuple[str, int], ...]  # (digest, pods) that pods run and the reference no longer names


class BrokenPods(NamedTuple):
    platform: str  # os/architecture, with a Windows build: windows(10.0.17763)/amd64
    pods: int
    nodes: tuple[str, ...]
    images: tuple[str, ...]  # those that cannot run there


class Blocker(NamedTuple):
    image: str
    update: str  # the newer reference that supports the target ("" when none was found)


class TargetFinding(NamedTuple):
    platform: Platform
    ready: bool | None  # None: an image could not be looked up and none lacks it
    blocked_by: tuple[Blocker, ...]


class Finding(NamedTuple):
    workload: Workload
    status: str  # one of STATUSES
    reason: str  # why, in one line ("" when ok)
    platforms: frozenset[tuple[str, str]] | None  # (os, arch) all its images support; None: unknown
    images: tuple[ImageFinding, ...]
    broken: tuple[BrokenPods, ...]
    targets: tuple[TargetFinding, ...]
    notes: tuple[str, ...] = ()  # what is worth knowing and changes nothing of the status

    @property
    def broken_pods(self) -> int:
        return sum(b.pods for b in self.broken)


class TargetSummary(NamedTuple):
    platform: Platform
    ready: int
    blocked: int
    unknown: int
    images: int  # distinct images blocking some workload
    updates: int  # of those, how many have a newer tag that supports the target


class Summary(NamedTuple):
    workloads: int
    namespaces: int
    counts: Mapping[str, int]  # status -> workloads
    broken_pods: int
    targets: tuple[TargetSummary, ...]

    @property
    def failed(self) -> bool:
        """Something is broken, unschedulable or at risk, or blocks a target (exit 1)."""
        return any(self.counts.get(s) for s in PROBLEMS) or any(t.blocked for t in self.targets)

    def line(self) -> str:
        """``52 workloads in 9 namespaces: 41 ok, 6 at risk, 1 broken (2 pods), 2 unschedulable,
        2 unknown; linux/arm64: 37 ready, 15 blocked by 7 images (4 with a newer tag)``."""
        parts = [f"{self.counts.get(OK, 0)} ok"]
        if self.counts.get(AT_RISK):
            parts.append(f"{self.counts[AT_RISK]} at risk")
        if self.counts.get(BROKEN):
            parts.append(f"{self.counts[BROKEN]} broken ({_count(self.broken_pods, 'pod')})")
        if self.counts.get(UNSCHEDULABLE):
            parts.append(f"{self.counts[UNSCHEDULABLE]} unschedulable")
        if self.counts.get(UNKNOWN):
            parts.append(f"{self.counts[UNKNOWN]} unknown")
        head = (
            f"{_count(self.workloads, 'workload')} in {_count(self.namespaces, 'namespace')}: "
            + ", ".join(parts)
        )
        for t in self.targets:
            text = f"{t.platform.spec}: {t.ready} ready"
            if t.blocked:
                text += f", {t.blocked} blocked by {_count(t.images, 'image')} ({t.updates} with a newer tag)"
            if t.unknown:
                text += f", {t.unknown} unknown"
            head += f"; {text}"
        return head


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _agree(n: int, detail: str) -> str:
    """A rejection's detail (``run linux/arm64, which ...``) after a count of one: ``runs``."""
    return f"runs {detail[4:]}" if n == 1 and detail.startswith("run ") else detail


def _pairs(platforms: Iterable[Platform]) -> frozenset[tuple[str, str]]:
    return frozenset(p.node for p in platforms)


def _images(workload: Workload, images: Mapping[str, Image]) -> tuple[ImageFinding, ...]:
    running: dict[str, list[tuple[str, int]]] = {}
    for r in workload.running:
        running.setdefault(r.image, []).append((r.digest, r.pods))
    out = []
    for container in workload.containers:
        answer = images.get(container.image) or Image(None, "not looked up")
        stale: tuple[tuple[str, int], ...] = ()
        if answer.platforms is not None and answer.digests and "@" not in container.image:
            stale = tuple((d, n) for d, n in running.get(container.image, ()) if d not in answer.digests)
        out.append(ImageFinding(container.name, container.image, answer, stale))
    return tuple(out)


def _broken(
    workload: Workload, images: Mapping[str, Image], nodes: Mapping[tuple[str, str, str], NodeInfo]
) -> tuple[BrokenPods, ...]:
    found: dict[str, list[Any]] = {}
    for placed in workload.placed:
        node = nodes.get(placed.platform)
        if node is None:
            continue
        missing = []
        for image in dict.fromkeys(placed.images):
            answer = images.get(image)
            if (
                answer is not None
                and answer.platforms is not None
                and not fitting.image_runs(answer.platforms, node)
            ):
                missing.append(image)
        if missing:
            name = node.platform_spec
            entry = found.setdefault(name, [0, [], []])
            entry[0] += placed.pods
            entry[1].extend(n for n in placed.nodes if n not in entry[1])
            entry[2].extend(i for i in missing if i not in entry[2])
    return tuple(
        BrokenPods(name, pods, tuple(sorted(names)), tuple(missing))
        for name, (pods, names, missing) in sorted(found.items())
    )


def _broken_reason(broken: Sequence[BrokenPods]) -> str:
    parts = []
    for b in broken:
        which = f"{'image' if len(b.images) == 1 else 'images'} {', '.join(b.images)}"
        nodes = f" ({', '.join(b.nodes)})" if b.nodes else ""
        parts.append(f"{_count(b.pods, 'pod')} on {b.platform} nodes{nodes}, which {which} cannot run on")
    return "; ".join(parts)


def _targets(
    workload: Workload,
    images: Mapping[str, Image],
    targets: Sequence[Platform],
    updates: Mapping[tuple[str, Platform], str],
) -> tuple[TargetFinding, ...]:
    out = []
    distinct = list(dict.fromkeys(c.image for c in workload.containers))
    for target in targets:
        blockers = []
        unknown = False
        for image in distinct:
            answer = images.get(image)
            if answer is None or answer.platforms is None:
                unknown = True
            elif not any(plat.matches(target, p, allow_variant_fallback=True) for p in answer.platforms):
                blockers.append(Blocker(image, updates.get((image, target), "")))
        ready = False if blockers else None if unknown else True
        out.append(TargetFinding(target, ready, tuple(blockers)))
    return tuple(out)


class _Fits:
    """:func:`.fit.fit` remembered by what it depends on (the placement fields and each image
    with its platforms): workloads of one chart or team share them, and a cluster's workloads
    are judged against its nodes many times over."""

    def __init__(self, nodes: Sequence[NodeInfo]) -> None:
        self.nodes = nodes
        self.known: dict[tuple[str, bool, tuple[tuple[str, frozenset[Platform]], ...]], fitting.Fit] = {}
        # Nodes alike but for their names (a pool's nodes): one stands for all, unless the
        # placement names nodes (the hostname label, matchFields).
        classes: dict[Any, list[Any]] = {}
        for node in nodes:
            labels = tuple(sorted((k, v) for k, v in node.labels.items() if k != HOSTNAME_LABEL))
            platform = (node.os, node.architecture, node.windows_build)
            key = (node.ready, node.cordoned, node.taints, labels, platform)
            entry = classes.setdefault(key, [node, 0])
            entry[1] += 1
        self.representatives = [node for node, _ in classes.values()]
        self.weights = [count for _, count in classes.values()]

    def _fit(self, rules: str, placement: Mapping[str, Any], images: Any, kind: str) -> fitting.Fit:
        extra = tolerations.implied(kind, placement)
        if HOSTNAME_LABEL in rules or "matchFields" in rules or placement.get("nodeName"):
            return fitting.fit(placement, images, self.nodes, extra_tolerations=extra)
        return fitting.fit(placement, images, self.representatives, self.weights, extra)

    def __call__(
        self, placement: Mapping[str, Any], images: Mapping[str, frozenset[Platform]], kind: str = ""
    ) -> fitting.Fit:
        """The fit of a template of a workload of ``kind`` (which decides implied tolerations)."""
        import json

        try:
            rules = json.dumps(placement, sort_keys=True, default=str)
        except (TypeError, ValueError):  # keys of mixed types: not worth remembering
            return self._fit("", placement, images, kind)
        key = (rules, kind == "DaemonSet", tuple(sorted(images.items(), key=lambda item: item[0])))
        found = self.known.get(key)
        if found is None:
            found = self.known[key] = self._fit(rules, placement, images, kind)
        return found


def judge_one(
    workload: Workload,
    images: Mapping[str, Image],
    nodes: Sequence[NodeInfo],
    by_platform: Mapping[tuple[str, str, str], NodeInfo],
    targets: Sequence[Platform] = (),
    updates: Mapping[tuple[str, Platform], str] | None = None,
    fits: _Fits | None = None,
) -> Finding:
    found = _images(workload, images)
    unknown = [i for i in found if i.answer.platforms is None]
    platforms: frozenset[tuple[str, str]] | None = None
    if not unknown:
        for i in found:
            pairs = _pairs(i.answer.platforms or ())
            platforms = pairs if platforms is None else platforms & pairs
        platforms = platforms or frozenset()
    broken = _broken(workload, images, by_platform)
    on_targets = _targets(workload, images, targets, updates or {})
    status, reason = OK, ""
    unschedulable = at_risk = ""
    notes: list[str] = list(workload.notes)
    for template in workload.templates:
        known = {}
        for c in template.containers:
            answer = images.get(c.image)
            if answer is not None and answer.platforms is not None:
                known[c.image] = answer.platforms
        result = (fits or _Fits(nodes))(template.placement, known, workload.kind)
        where = f"{template.path}: " if len(workload.templates) > 1 else ""
        if not result.fits:
            if workload.kind == "DaemonSet" and not _daemon_nodes(template.placement, nodes):
                notes.append(
                    f"{where}its nodeSelector, affinity and tolerations admit none of the "
                    f"{_count(len(nodes), 'node')}: the DaemonSet wants no pods"
                )
                continue
            unschedulable = unschedulable or f"{where}fits no Ready node: {result.explain()}"
            continue
        risky = [r for r in result.rejections if r.reason == fitting.IMAGE_PLATFORMS]
        if risky and not at_risk:
            details = "; ".join(f"{_count(r.nodes, 'Ready node')} {_agree(r.nodes, r.detail)}" for r in risky)
            at_risk = f"{where}the scheduler may place pods on nodes it cannot run on: {details}"
    if workload.error:
        status, reason, platforms = UNKNOWN, workload.error, None
        on_targets = tuple(t._replace(ready=None if t.ready else t.ready) for t in on_targets)
    elif broken:
        status, reason = BROKEN, _broken_reason(broken)
    elif unschedulable:
        status, reason = UNSCHEDULABLE, unschedulable
    elif unknown:
        status = UNKNOWN
        reason = "; ".join(dict.fromkeys(i.answer.error for i in unknown))
    elif at_risk:
        status, reason = AT_RISK, at_risk
    return Finding(workload, status, reason, platforms, found, broken, on_targets, tuple(notes))


def _daemon_nodes(placement: Mapping[str, Any], nodes: Sequence[NodeInfo]) -> int:
    """The nodes a DaemonSet of this pod template wants a pod on (:func:`.fit.daemon_nodes`)."""
    return fitting.daemon_nodes(placement, nodes, tolerations.implied("DaemonSet", placement))


def platform_nodes(nodes: Iterable[NodeInfo]) -> dict[tuple[str, str, str], NodeInfo]:
    """One node per (os, architecture, Windows build): what judging a pod's node needs."""
    out: dict[tuple[str, str, str], NodeInfo] = {}
    for node in nodes:
        out.setdefault(platform_key(node), node)
    return out


def platform_key(node: NodeInfo) -> tuple[str, str, str]:
    return (node.os, node.architecture, node.windows_build if node.os == "windows" else "")


def judge(
    workloads: Iterable[Workload],
    images: Mapping[str, Image],
    nodes: Sequence[NodeInfo],
    targets: Sequence[Platform] = (),
    updates: Mapping[tuple[str, Platform], str] | None = None,
) -> list[Finding]:
    """One :class:`Finding` per workload, in the order given. ``images`` answers every image
    reference of the workloads; ``updates`` maps (image, target) to a newer reference that
    supports the target."""
    by_platform = platform_nodes(nodes)
    fits = _Fits(nodes)
    return [judge_one(w, images, nodes, by_platform, targets, updates, fits) for w in workloads]


def summarize(findings: Sequence[Finding], targets: Sequence[Platform] = ()) -> Summary:
    counts = {status: 0 for status in STATUSES}
    for f in findings:
        counts[f.status] += 1
    per_target = []
    for i, target in enumerate(targets):
        results = [f.targets[i] for f in findings]
        blocking = {b.image: b.update for r in results for b in r.blocked_by}
        per_target.append(
            TargetSummary(
                target,
                sum(1 for r in results if r.ready is True),
                sum(1 for r in results if r.ready is False),
                sum(1 for r in results if r.ready is None),
                len(blocking),
                sum(1 for update in blocking.values() if update),
            )
        )
    return Summary(
        len(findings),
        len({f.workload.namespace for f in findings if f.workload.namespace}),
        counts,
        sum(f.broken_pods for f in findings),
        tuple(per_target),
    )


def platform_list(pairs: Iterable[tuple[str, str]]) -> list[str]:
    return [format_platform(p) for p in sorted(set(pairs))]


def _image_json(i: ImageFinding) -> dict[str, Any]:
    entry: dict[str, Any] = {"container": i.container, "image": i.image}
    if i.answer.platforms is None:
        entry["error"] = i.answer.error
        return entry
    entry["platforms"] = sorted({p.spec for p in i.answer.platforms})
    entry["digest"] = i.answer.digest
    entry["staleDigests"] = [{"digest": d, "pods": n} for d, n in i.stale]
    return entry


def workload_json(f: Finding) -> dict[str, Any]:
    w = f.workload
    entry: dict[str, Any] = {
        "kind": w.kind,
        "apiVersion": w.api_version,
        "namespace": w.namespace,
        "name": w.name,
        "status": f.status,
        "reason": f.reason,
        "platforms": None if f.platforms is None else platform_list(f.platforms),
        "images": [_image_json(i) for i in f.images],
        "pods": w.pods,
        "brokenPods": [{"platform": b.platform, "pods": b.pods, "nodes": list(b.nodes)} for b in f.broken],
        "fromPods": w.from_pods,
    }
    if w.error:
        entry["error"] = w.error
    if f.notes:
        entry["notes"] = list(f.notes)
    if f.targets:
        entry["target"] = [
            {
                "platform": t.platform.spec,
                "ready": t.ready,
                "blockedBy": [
                    {"image": b.image, **({"update": b.update} if b.update else {})} for b in t.blocked_by
                ],
            }
            for t in f.targets
        ]
    return entry


class Unreadable(NamedTuple):
    resource: str  # as kubectl names it: daemonsets.apps
    message: str
    forbidden: bool = True  # 403 (RBAC); else another error status (404, 500...)


def to_json(
    findings: Sequence[Finding],
    summary: Summary,
    nodes: Sequence[NodeInfo],
    context: str,
    namespace: str | None,
    unreadable: Sequence[Unreadable] = (),
    warnings: Sequence[str] = (),
) -> dict[str, Any]:
    """The ``kubectl arch audit -o json`` document (a contract: see the README)."""
    ready = [n for n in nodes if n.ready]
    counts = summary.counts
    return {
        "cluster": {
            "context": context,
            "nodes": len(nodes),
            "ready": len(ready),
            "platforms": platform_list(n.platform for n in ready),
        },
        "namespace": namespace,
        "workloads": [workload_json(f) for f in findings],
        "unreadable": [{"resource": u.resource, "message": u.message} for u in unreadable],
        "summary": {
            "workloads": summary.workloads,
            "namespaces": summary.namespaces,
            "ok": counts.get(OK, 0),
            "atRisk": counts.get(AT_RISK, 0),
            "broken": counts.get(BROKEN, 0),
            "brokenPods": summary.broken_pods,
            "unschedulable": counts.get(UNSCHEDULABLE, 0),
            "unknown": counts.get(UNKNOWN, 0),
            "targets": [
                {
                    "platform": t.platform.spec,
                    "ready": t.ready,
                    "blocked": t.blocked,
                    "unknown": t.unknown,
                    "blockingImages": t.images,
                    "withUpdate": t.updates,
                }
                for t in summary.targets
            ],
            "text": summary.line(),
        },
        "warnings": list(warnings),
    }
