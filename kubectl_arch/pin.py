"""Pin workloads to the platforms their images support.

Three phases, so that later platform sources (registry look-ups, a cluster's nodes) can
batch their work between them:

1. :func:`scan` finds the workloads of a YAML stream, parsing only documents that may be
   workloads, and reads each pod spec's containers, affinity and nodeSelector;
2. the caller decides which platforms each image supports;
3. :func:`pin` plans each workload's affinity (:mod:`.affinity`) and splices the result
   into the original text (:mod:`.yamledit`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from . import affinity, podspec
from . import platforms as plat
from .manifest import yamlnodes as yn
from .manifest.scan import Container, Finding, Scan, Workload
from .platforms import Platform

if TYPE_CHECKING:  # imported where used: pinning without tolerations never loads them
    from . import tolerations


class Outcome(NamedTuple):
    text: str
    changed: list[Workload]
    findings: list[Finding]


# -- phase 3 --------------------------------------------------------------------------------


def describe_containers(containers: Iterable[Container]) -> str:
    return ", ".join(f"{c.name!r} {c.image}" for c in containers)


def node_platforms(
    workload: Workload, supported: Mapping[str, frozenset[Platform]]
) -> frozenset[tuple[str, str]]:
    """The node platforms (os, arch) every image of the workload runs on."""
    nodes: frozenset[tuple[str, str]] | None = None
    for container in workload.containers:
        pairs = frozenset(p.node for p in supported[container.image])
        nodes = pairs if nodes is None else nodes & pairs
    return nodes or frozenset()


class Bound(NamedTuple):
    """An upper bound on where pods may run, whatever their images support: the cluster's
    Ready node platforms, or ``--platform`` when images are looked up in a registry."""

    name: str  # for messages: "the cluster", "--platform"
    nodes: frozenset[tuple[str, str]]
    # Windows platforms limited to some builds (node.kubernetes.io/windows-build values);
    # a platform not in it is not limited.
    builds: Mapping[tuple[str, str], plat.HostBuilds] = {}
    # The cluster's nodes by name (cluster.nodeinfo.NodeInfo), for pods that name theirs
    # (spec.nodeName); None when the bound is not a cluster. ``complete``: every node was read.
    named: Mapping[str, Any] | None = None
    complete: bool = True


class Placement(NamedTuple):
    """What limits where workloads run besides their images: upper bounds on platforms (the
    cluster's Ready nodes) and the platform taints to tolerate; and what to warn about."""

    bounds: tuple[Bound, ...] = ()
    taints: tolerations.ArchTaints | None = None
    warnings: tuple[str, ...] = ()


def windows_builds(
    per_image: Sequence[frozenset[Platform]], nodes: Iterable[tuple[str, str]], bounds: Sequence[Bound] = ()
) -> dict[tuple[str, str], plat.HostBuilds]:
    """For each Windows node platform whose images constrain the host build: the builds
    (``node.kubernetes.io/windows-build`` values) every image runs on (:class:`~.platforms.
    HostBuilds`: listed, or open to later builds), judged on the known builds and those the
    bounds name, limited by the bounds. An empty set: no build runs them all."""
    out: dict[tuple[str, str], plat.HostBuilds] = {}
    for platform in nodes:
        hosts = {b for bound in bounds if platform in bound.builds for b in bound.builds[platform].listed}
        found = plat.windows_builds(per_image, platform, hosts)
        if found is None:
            continue
        for bound in bounds:
            if platform in bound.builds:
                found = found.intersect(bound.builds[platform])
        out[platform] = found
    return out


def _specs(platforms: Iterable[Platform]) -> str:
    return ",".join(sorted({p.spec for p in platforms})) or "none"


def pin(
    found: Scan,
    supported: Mapping[str, frozenset[Platform]],
    on_change: Callable[[Workload, affinity.Plan], None] | None = None,
    bounds: Sequence[Bound] = (),
    taints: tolerations.ArchTaints | None = None,
    unknown: Mapping[str, str] | None = None,
    rewrites: Mapping[str, str] | None = None,
) -> Outcome:
    """Plan and splice every workload of a scan; conflicts become error findings.

    ``supported`` maps every image to the platforms it runs on; each of ``bounds`` further
    limits the node platforms a workload may be pinned to. With ``taints``, every workload
    also tolerates the platform taints of the platforms it is pinned to. A workload with an
    image in ``unknown`` (image -> why) is left as it is, with a warning. ``rewrites`` (image ->
    new reference) replaces the image fields of the workloads that are pinned (``--digests``).
    """
    from .manifest import yamledit

    findings = list(found.findings)
    changed: list[Workload] = []
    edits: list[yamledit.Edit] = []
    styles: dict[int, yamledit.Style] = {}
    groups: dict[int, _Group] = {}
    unknown = unknown or {}
    rewrites = rewrites or {}
    for workload in found.workloads:
        location = workload.location
        missing = [c for c in workload.containers if c.image in unknown]
        if missing:
            why = "; ".join(dict.fromkeys(unknown[c.image] for c in missing))
            findings.append(
                Finding(
                    "warning",
                    f"not pinned: its images could not all be looked up ({why})",
                    location,
                    workload.field,
                )
            )
            continue
        nodes = node_platforms(workload, supported)
        per_image = [supported[c.image] for c in workload.containers]
        builds = windows_builds(per_image, nodes)
        nodes = frozenset(p for p in nodes if not (p in builds and builds[p].empty))
        lines = "; ".join(f"{c.name!r} {c.image}: {_specs(supported[c.image])}" for c in workload.containers)
        if not nodes:
            unread = sorted(
                {p.os_version for ps in per_image for p in ps if p.os == "windows" and p.os_version}
                - {p.os_version for ps in per_image for p in ps if plat.windows_build(p.os_version)}
            )
            why = (
                f"; os.version {', '.join(unread)} names no Windows build (10.0.<build>), so no host runs it"
                if unread
                else ""
            )
            findings.append(
                Finding("error", f"its images share no platform ({lines}){why}", location, workload.field, 1)
            )
            continue
        os_name = podspec.os_name(workload.pod)
        if os_name is not None:
            # The kubelet admits the pod only on a node of that OS (PodOSNotSupported).
            if not any(p[0] == os_name for p in nodes):
                findings.append(
                    Finding(
                        "error",
                        f"spec.os.name is {os_name}, but its images run only on {_describe(nodes, builds)} "
                        f"({lines})",
                        location,
                        f"{workload.field}.os.name",
                        1,
                    )
                )
                continue
            nodes = frozenset(p for p in nodes if p[0] == os_name)
        node_name = podspec.node_name(workload.pod)
        if node_name:
            finding = _bound_to_node(workload, node_name, nodes, builds, per_image, bounds, lines)
            if finding is not None:
                findings.append(finding)
            continue
        refused = None
        for i, bound in enumerate(bounds):
            limited = windows_builds(per_image, nodes, bounds[: i + 1])
            within = frozenset(p for p in nodes & bound.nodes if not (p in limited and limited[p].empty))
            if not within:
                refused = bound
                break
            nodes = within
        if refused is not None:
            limits = {p: b for p, b in refused.builds.items() if p in builds}
            findings.append(
                Finding(
                    "error",
                    f"its images run on {_describe(nodes, builds)}, none of which {refused.name} "
                    f"allows ({_describe(refused.nodes, limits) or 'none'}); "
                    f"containers: {describe_containers(workload.containers)}",
                    location,
                    workload.field,
                    1,
                )
            )
            continue
        builds = windows_builds(per_image, nodes, bounds)
        variant_warnings = plat.variant_gaps((supported[c.image] for c in workload.containers), nodes)
        try:
            plan = affinity.plan(workload.pod, nodes, builds)
        except affinity.AffinityError as exc:
            findings.append(
                Finding("error", f"{workload.field}.{exc}", location, f"{workload.field}.{exc.field}", 2)
            )
            continue
        if plan.conflict:
            findings.append(
                Finding(
                    "error",
                    f"{plan.conflict}; containers: {describe_containers(workload.containers)}",
                    location,
                    f"{workload.field}.{plan.conflict_field}",
                    1,
                )
            )
            continue
        field = f"{workload.field}.affinity"
        findings.extend(Finding("warning", w, location, field) for w in plan.warnings)
        findings.extend(Finding("warning", w, location, field) for w in variant_warnings)
        if taints is not None:
            from . import tolerations

            try:
                extra = tolerations.plan(workload.pod, plan.admitted, taints)
            except tolerations.TolerationError as exc:
                where = f"{workload.field}.{exc.field}"
                findings.append(Finding("error", f"{workload.field}.{exc}", location, where, 2))
                continue
            if extra.ops:
                plan = plan._replace(ops=plan.ops + extra.ops)
                field = workload.field if len(plan.ops) > len(extra.ops) else f"{workload.field}.tolerations"
        image_ops = tuple(
            ("replace", (c.field, c.index, "image"), rewrites[c.image])
            for c in workload.containers
            if c.image in rewrites and rewrites[c.image] != c.image
        )
        if image_ops:
            plan = plan._replace(ops=(*plan.ops, *image_ops))
        if not plan.ops:
            continue
        style = styles.get(id(workload.style_root))
        if style is None:
            style = styles[id(workload.style_root)] = yamledit.detect_style(
                workload.parsed, workload.style_root
            )
        splicer = yamledit.Splicer(workload.parsed, workload.node, workload.key, style)
        try:
            workload_edits = splicer.apply_ops(plan.ops)
        except (yamledit.EditError, yn.YamlShapeError) as exc:
            findings.append(Finding("error", f"cannot edit {field}: {exc}", location, field, 2))
            continue
        edits.extend(workload_edits)
        changed.append(workload)
        group = groups.setdefault(id(workload.parsed), _Group(workload.parsed, [], []))
        group.workloads.append((workload, plan))
        group.edits.extend(workload_edits)
        if on_change is not None:
            on_change(workload, plan)
    text = found.text
    if edits and not any(f.severity == "error" for f in findings):
        try:
            text = yamledit.apply_edits(found.text, edits)
        except yamledit.EditError as exc:
            where = changed[0].location if changed else None
            findings.append(Finding("error", f"internal error: {exc}; nothing was written", where, None, 2))
            return Outcome(found.text, changed, findings)
        for group in groups.values():
            failure = _verify(text, groups.values(), group)
            if failure is not None:
                findings.append(failure)
                text = found.text
    return Outcome(text, changed, findings)


def _bound_to_node(
    workload: Workload,
    name: str,
    nodes: frozenset[tuple[str, str]],
    builds: Mapping[tuple[str, str], plat.HostBuilds],
    per_image: Sequence[frozenset[Platform]],
    bounds: Sequence[Bound],
    lines: str,
) -> Finding | None:
    """A pod that names its node (``spec.nodeName``) skips the scheduler: an affinity would not
    steer it, only make the kubelet reject it on a node that does not satisfy it. So it is
    never pinned; with the cluster's nodes at hand, a node its images cannot run on is a
    conflict (exit 1), as is a node the cluster does not have."""
    field = f"{workload.field}.nodeName"
    cluster = next((b for b in bounds if b.named is not None), None)
    if cluster is None or cluster.named is None:
        return Finding(
            "warning",
            f"spec.nodeName {name} places the pod without the scheduler, so it is not pinned; its images "
            f"run on {_describe(nodes, builds)}: check that the node does (kubectl arch check)",
            workload.location,
            field,
        )
    node = cluster.named.get(name)
    if node is None:
        if not cluster.complete:
            return Finding(
                "warning",
                f"spec.nodeName {name} is not among the nodes read (-l/--selector); not pinned",
                workload.location,
                field,
            )
        return Finding(
            "error",
            f"spec.nodeName {name} is not a node of {cluster.name}: the pod would never run",
            workload.location,
            field,
            1,
        )
    from .fit import image_runs

    if all(image_runs(platforms, node) for platforms in per_image):
        return None  # it runs there; nothing to pin
    return Finding(
        "error",
        f"spec.nodeName {name} is a {node.platform_spec} node, which its images cannot run on ({lines}); "
        "an affinity cannot move a pod that skips the scheduler: name another node",
        workload.location,
        field,
        1,
    )


class _Group(NamedTuple):
    """The workloads of one parsed object and the edits made to it."""

    parsed: yn.Parsed
    workloads: list[tuple[Workload, affinity.Plan]]
    edits: list[Any]


def _growth(edits: Iterable[Any]) -> int:
    return sum(len(e.text) - (e.end - e.start) for e in edits)


def _verify(text: str, groups: Iterable[_Group], group: _Group) -> Finding | None:
    """Read an edited object back and check it is the original with exactly the planned
    affinity changes: splicing must never corrupt or lose anything."""
    parsed = group.parsed
    before = sum(_growth(g.edits) for g in groups if g.parsed.offset < parsed.offset)
    start = parsed.offset + before
    stop = parsed.stop + before + _growth(group.edits)
    expected = yn.to_data(parsed.root, raw=parsed)
    for workload, plan in group.workloads:
        parent = expected
        for part in workload.path[:-1]:
            parent = parent[part]
        last = workload.path[-1]
        parent[last] = affinity.apply(parent[last], plan.ops)
    try:
        again = yn.compose(text, start, stop)
        actual = yn.to_data(again.root, raw=again)
    except (yn.YamlSyntaxError, yn.YamlShapeError):
        actual = None
    if actual == expected:
        return None
    return Finding(
        "error",
        "internal error: the edited YAML did not read back as planned, so nothing was written; "
        "please report this with the input",
        group.workloads[0][0].location,
        None,
        2,
    )


def _describe(nodes: Iterable[tuple[str, str]], builds: Mapping[tuple[str, str], plat.HostBuilds]) -> str:
    """``linux/amd64,windows(10.0.17763)/amd64``: node platforms, with Windows builds
    (``windows(unknown build)/amd64`` for a platform whose nodes say no build)."""
    out = []
    for o, a in sorted(set(nodes)):
        limit = builds.get((o, a))
        shown = [""] if limit is None else limit.shown() or ["unknown build"]
        out.extend(f"{o}({b})/{a}" if b else f"{o}/{a}" for b in shown)
    return ",".join(out)


def static_platforms(scans: Iterable[Scan], platforms: frozenset[Platform]) -> dict[str, frozenset[Platform]]:
    """Every image of every workload supports exactly ``platforms`` (``--platform``)."""
    return {c.image: platforms for s in scans for w in s.workloads for c in w.containers}
