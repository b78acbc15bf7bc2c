"""Will these workloads schedule? The library of ``kubectl arch check``; pure.

For every workload: the platforms each of its images supports and their intersection, the
platforms of the cluster's Ready nodes that its own constraints (``nodeSelector``, required
node affinity) allow, and the Ready nodes that fit all of it, taints and tolerations
included (:func:`kubectl_arch.fit.fit`), with the reasons the other nodes do not fit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from . import fit as fitting
from . import platforms as plat
from . import tolerations
from .cluster.nodeinfo import NodeInfo
from .pin import Workload
from .platforms import Platform


class ImageCheck(NamedTuple):
    container: str
    image: str
    platforms: frozenset[Platform] | None  # None: could not be looked up


class WorkloadCheck(NamedTuple):
    workload: Workload
    images: tuple[ImageCheck, ...]
    image_platforms: frozenset[tuple[str, str]]  # (os, arch) every image supports
    allowed_platforms: frozenset[tuple[str, str]]  # Ready platforms the pod's constraints allow
    fit: fitting.Fit | None  # None when some image could not be looked up
    unknown: str  # why, then
    warnings: tuple[str, ...] = ()  # what the fit cannot tell (CPU variants)

    @property
    def fits(self) -> bool | None:
        return None if self.fit is None else self.fit.fits


class ClusterSummary(NamedTuple):
    nodes: int
    ready: int
    platforms: frozenset[tuple[str, str]]  # of Ready nodes


def summarize(nodes: Sequence[NodeInfo]) -> ClusterSummary:
    ready = [n for n in nodes if n.ready]
    return ClusterSummary(len(nodes), len(ready), frozenset(n.platform for n in ready))


def allowed_platforms(pod: Mapping[str, Any], nodes: Iterable[NodeInfo]) -> frozenset[tuple[str, str]]:
    """The platforms of Ready nodes that the pod's own constraints allow: its nodeSelector,
    required node affinity, ``spec.os.name`` and ``spec.nodeName`` (whatever its images, taints
    and tolerations)."""
    rules = fitting.placement(pod)
    seen: set[tuple[str, str]] = set()
    for node in nodes:
        if node.ready and node.platform not in seen and rules.allows(node):
            seen.add(node.platform)
    return frozenset(seen)


def check(
    workloads: Iterable[Workload],
    supported: Mapping[str, frozenset[Platform]],
    unknown: Mapping[str, str],
    nodes: Sequence[NodeInfo],
) -> list[WorkloadCheck]:
    """One :class:`WorkloadCheck` per workload. ``supported`` maps images to the platforms
    they run on; images in ``unknown`` (image -> why) could not be looked up."""
    results = []
    for workload in workloads:
        images = tuple(
            ImageCheck(c.name, c.image, supported.get(c.image) if c.image not in unknown else None)
            for c in workload.containers
        )
        allowed = allowed_platforms(workload.pod, nodes)
        missing = [i.image for i in images if i.platforms is None]
        if missing:
            why = "; ".join(dict.fromkeys(unknown[image] for image in missing))
            results.append(WorkloadCheck(workload, images, frozenset(), allowed, None, why))
            continue
        platforms: frozenset[tuple[str, str]] | None = None
        for image in images:
            pairs = frozenset(p.node for p in image.platforms or ())
            platforms = pairs if platforms is None else platforms & pairs
        result = fitting.fit(
            workload.pod,
            {i.image: i.platforms or frozenset() for i in images},
            nodes,
            extra_tolerations=tolerations.implied(workload.location.kind, workload.pod),
        )
        warnings = variant_warnings([i.platforms or frozenset() for i in images], result, nodes)
        results.append(
            WorkloadCheck(workload, images, platforms or frozenset(), allowed, result, "", warnings)
        )
    return results


def variant_warnings(
    per_image: Sequence[frozenset[Platform]], result: fitting.Fit, nodes: Sequence[NodeInfo]
) -> tuple[str, ...]:
    """Warnings for the fitting nodes' platforms where an image needs a later CPU variant than
    every node has (:func:`~.platforms.variant_needs`): nodes carry no variant label, so the
    fit counts them all, though the ones with older CPUs cannot run the images (containerd:
    "no matching manifest")."""
    if not result.nodes:
        return ()
    fitting_nodes = set(result.nodes)
    out = []
    for platform, needed, _ in plat.variant_needs(per_image, result.platforms):
        count = sum(1 for n in nodes if n.platform == platform and n.name in fitting_nodes)
        name = f"{platform[0]}/{platform[1]}"
        out.append(
            f"images need {name}/{needed} or newer, but nodes carry no CPU variant label: the {count} "
            f"{name} node(s) counted as fitting may have CPUs older than {needed}, which cannot run them"
        )
    return tuple(out)


def several_pods(results: Sequence[WorkloadCheck]) -> set[Any]:
    """The locations of objects with several pods (a Workflow's templates, a RayCluster's
    groups), whose pods are named by their field too."""
    seen: set[Any] = set()
    several: set[Any] = set()
    for r in results:
        (several if r.workload.location in seen else seen).add(r.workload.location)
    return several


def name(r: WorkloadCheck, several: set[Any]) -> str:
    """``file doc N Kind/name``, and the pod's field when the object has several pods."""
    if r.workload.location in several:
        return f"{r.workload.location} {r.workload.field}"
    return str(r.workload.location)


def _platforms(pairs: Iterable[tuple[str, str]]) -> list[str]:
    return [f"{os}/{arch}" for os, arch in sorted(set(pairs))]


def _where(loc: Any) -> dict[str, Any]:
    """Where an object is, as the JSON document says it: file, document, item, identity."""
    entry: dict[str, Any] = {
        "file": loc.file_path or loc.source,
        "document": loc.file_index + 1 if loc.file_path and loc.file_index is not None else loc.document,
    }
    if loc.item is not None and not loc.file_path:
        entry["item"] = loc.item
        if loc.inner:
            entry["innerItems"] = list(loc.inner)
    entry.update(apiVersion=loc.api_version, kind=loc.kind, name=loc.name)
    if loc.namespace:
        entry["namespace"] = loc.namespace
    return entry


def to_json(
    results: Sequence[WorkloadCheck],
    cluster: ClusterSummary,
    skipped: Sequence[Any] = (),
    unchecked: Sequence[Any] = (),
    errors: Sequence[Any] = (),
) -> dict[str, Any]:
    """The ``check -o json`` document (a contract: see the README). ``skipped``: findings for
    objects left out (incomplete workloads), listed with the reason; ``unchecked``: findings
    for objects whose pods could not be judged (a kind nobody declared, pods made from another
    object), listed as ``notChecked``; ``errors``: input errors (objects that could not be read,
    neither judged nor listed among ``workloads``), listed as ``errors`` with the field, when
    known, and the reason."""
    workloads = []
    several = several_pods(results)
    for r in results:
        entry = _where(r.workload.location)
        if r.workload.location in several:
            entry["pod"] = r.workload.field
        entry["containers"] = [
            {
                "name": i.container,
                "image": i.image,
                "platforms": None if i.platforms is None else sorted({p.spec for p in i.platforms}),
            }
            for i in r.images
        ]
        entry["imagePlatforms"] = _platforms(r.image_platforms)
        entry["allowedPlatforms"] = _platforms(r.allowed_platforms)
        if r.fit is None:
            entry.update(fits=None, unknown=r.unknown)
        else:
            entry.update(
                fits=r.fit.fits,
                fittingNodes=len(r.fit.nodes),
                fittingPlatforms=_platforms(r.fit.platforms),
                reasons=[
                    {"reason": x.reason, "detail": x.detail, "nodes": x.nodes} for x in r.fit.rejections
                ],
                message=r.fit.explain(),
            )
        entry["warnings"] = list(r.warnings)
        workloads.append(entry)
    document = {
        "fits": all(r.fits for r in results if r.fits is not None),
        "cluster": {
            "nodes": cluster.nodes,
            "ready": cluster.ready,
            "platforms": _platforms(cluster.platforms),
        },
        "workloads": workloads,
    }
    if skipped:
        document["skipped"] = [{**_where(f.location), "reason": f.message} for f in skipped]
    if unchecked:
        document["notChecked"] = [{**_where(f.location), "reason": f.message} for f in unchecked]
    if errors:
        document["errors"] = [
            {
                **(_where(f.location) if f.location is not None else {}),
                **({"field": f.field} if f.field and f.location is not None else {}),
                "reason": f.message,
            }
            for f in errors
        ]
    return document
