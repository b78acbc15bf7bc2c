"""Pin workloads to the platforms their images support.

Three phases, so that later platform sources (registry look-ups, a cluster's nodes) can
batch their work between them:

1. :func:`.manifest.scan.scan` finds the workloads of a YAML stream, parsing only documents
   that may be workloads, and reads each pod spec's containers, affinity and nodeSelector;
2. the caller decides which platforms each image supports;
3. :func:`pin` reads the stream again, one document at a time, plans each workload's affinity
   (:mod:`.affinity`), splices the result into the original text (:mod:`.manifest.yamledit`)
   and reads it back. When every image is known to support the same platforms (``--platform``
   alone), phase 1 is skipped (:func:`.manifest.scan.lazy`) and each document is parsed once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from . import affinity, podspec
from . import platforms as plat
from .manifest import scan as scanning
from .manifest import yamledit, yamltext
from .manifest import yamlnodes as yn
from .manifest.scan import Container, Finding, Location, Scan, Workload
from .platforms import Platform

if TYPE_CHECKING:  # imported where used: pinning without tolerations never loads them
    from . import tolerations


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


def _describe(nodes: Iterable[tuple[str, str]], builds: Mapping[tuple[str, str], plat.HostBuilds]) -> str:
    """``linux/amd64,windows(10.0.17763)/amd64``: node platforms, with Windows builds
    (``windows(unknown build)/amd64`` for a platform whose nodes say no build)."""
    out = []
    for o, a in sorted(set(nodes)):
        limit = builds.get((o, a))
        shown = [""] if limit is None else limit.shown() or ["unknown build"]
        out.extend(f"{o}({b})/{a}" if b else f"{o}/{a}" for b in shown)
    return ",".join(out)


class AllImages(Mapping[str, frozenset[Platform]]):
    """Every image supports exactly ``platforms`` (``--platform`` alone): answers for any
    image, so that nothing needs to be read before pinning."""

    def __init__(self, platforms: frozenset[Platform]) -> None:
        self.platforms = platforms

    def __getitem__(self, image: str) -> frozenset[Platform]:
        return self.platforms

    def __contains__(self, image: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


class Outcome:
    """What pinning one stream did: the edits to its text (none when any error was found),
    the workloads changed, those already pinned, and the findings."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.edits: list[yamledit.Edit] = []
        self.changed: list[Location] = []
        self.unchanged = 0  # workloads pinned already
        self.workloads = 0  # workloads found
        self.findings: list[Finding] = []

    @property
    def failed(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    @property
    def skipped(self) -> int:
        return sum(1 for f in self.findings if f.skipped)

    @property
    def text(self) -> str:
        """The pinned text (the source as it was when nothing is to change)."""
        return yamledit.apply_edits(self.source, self._edits()) if self.edits else self.source

    def pieces(self) -> Iterable[str]:
        """The pinned text in pieces, for writing a large stream without building it."""
        return yamledit.pieces(self.source, self._edits()) if self.edits else (self.source,)

    def _edits(self) -> list[yamledit.Edit]:
        """The edits, their new lines ending as the line they are spliced into does, where
        the source ends lines otherwise than with LF or CRLF (the edits were planned on the
        text with those breaks read as LF, which has the same positions)."""
        if not yamltext.has_odd_breaks(self.source):
            return self.edits
        out = []
        for edit in self.edits:
            line_end = yamltext.line_break_at(self.source, edit.start)
            out.append(edit._replace(text=edit.text.replace("\n", line_end)) if line_end != "\n" else edit)
        return out


class _Planned(NamedTuple):
    workload: Workload
    plan: affinity.Plan
    field: str  # what the edit is about, for messages


def _plan(
    workload: Workload,
    supported: Mapping[str, frozenset[Platform]],
    bounds: Sequence[Bound],
    taints: tolerations.ArchTaints | None,
    unknown: Mapping[str, str],
    rewrites: Mapping[str, str],
) -> tuple[_Planned | None, list[Finding]]:
    """One workload's plan (affinity, tolerations, image rewrites), or the findings that
    keep it as it is."""
    location = workload.location
    missing = [c for c in workload.containers if c.image in unknown]
    if missing:
        why = "; ".join(dict.fromkeys(unknown[c.image] for c in missing))
        message = f"not pinned: its images could not all be looked up ({why})"
        return None, [Finding("warning", message, location, workload.field)]
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
        if workload.shared:
            why += f"; {workload.shared}"
        return None, [
            Finding("error", f"its images share no platform ({lines}){why}", location, workload.field, 1)
        ]
    os_name = podspec.os_name(workload.pod)
    if os_name is not None:
        # The kubelet admits the pod only on a node of that OS (PodOSNotSupported).
        if not any(p[0] == os_name for p in nodes):
            runs = _describe(nodes, builds)
            message = f"spec.os.name is {os_name}, but its images run only on {runs} ({lines})"
            return None, [Finding("error", message, location, f"{workload.field}.os.name", 1)]
        nodes = frozenset(p for p in nodes if p[0] == os_name)
    node_name = podspec.node_name(workload.pod)
    if node_name:
        finding = _bound_to_node(workload, node_name, nodes, builds, per_image, bounds, lines)
        return None, [] if finding is None else [finding]
    for i, bound in enumerate(bounds):
        limited = windows_builds(per_image, nodes, bounds[: i + 1])
        within = frozenset(p for p in nodes & bound.nodes if not (p in limited and limited[p].empty))
        if not within:
            limits = {p: b for p, b in bound.builds.items() if p in builds}
            message = (
                f"its images run on {_describe(nodes, builds)}, none of which {bound.name} "
                f"allows ({_describe(bound.nodes, limits) or 'none'}); "
                f"containers: {describe_containers(workload.containers)}"
            )
            return None, [Finding("error", message, location, workload.field, 1)]
        nodes = within
    builds = windows_builds(per_image, nodes, bounds)
    variant_warnings = plat.variant_gaps((supported[c.image] for c in workload.containers), nodes)
    try:
        plan = _affinity_plan(workload.pod, nodes, builds)
    except affinity.AffinityError as exc:
        where = f"{workload.field}.{exc.field}"
        return None, [Finding("error", f"{workload.field}.{exc}", location, where, 2)]
    if plan.conflict:
        message = f"{plan.conflict}; containers: {describe_containers(workload.containers)}"
        return None, [Finding("error", message, location, f"{workload.field}.{plan.conflict_field}", 1)]
    field = f"{workload.field}.affinity"
    findings = [Finding("warning", w, location, field) for w in (*plan.warnings, *variant_warnings)]
    if taints is not None:
        from . import tolerations

        try:
            extra = tolerations.plan(workload.pod, plan.admitted, taints)
        except tolerations.TolerationError as exc:
            where = f"{workload.field}.{exc.field}"
            return None, [*findings, Finding("error", f"{workload.field}.{exc}", location, where, 2)]
        if extra.ops:
            plan = plan._replace(ops=plan.ops + extra.ops)
            field = workload.field if len(plan.ops) > len(extra.ops) else f"{workload.field}.tolerations"
    if workload.placement or workload.inherited or workload.nulls:  # containers and placement apart
        from .manifest import units

        plan = plan._replace(ops=units.relocate(workload, plan.ops))
    image_ops = tuple(
        ("replace", c.at if c.at is not None else (c.field, c.index, "image"), rewrites[c.image])
        for c in workload.containers
        if c.image in rewrites and rewrites[c.image] != c.image
    )
    if image_ops:
        plan = plan._replace(ops=(*plan.ops, *image_ops))
    return _Planned(workload, plan, field), findings


_PLANS: dict[tuple[str, frozenset[tuple[str, str]], str], affinity.Plan] = {}


def _affinity_plan(
    pod: dict[str, Any], nodes: frozenset[tuple[str, str]], builds: Mapping[tuple[str, str], plat.HostBuilds]
) -> affinity.Plan:
    """:func:`affinity.plan`, remembered: streams hold many workloads alike (a plan is pure,
    and its operations are only read)."""
    memo = (repr(pod), nodes, frozenset(builds.items()))
    known = _PLANS.get(memo)
    if known is None:
        known = affinity.plan(pod, nodes, builds)
        if len(_PLANS) >= 1024:
            _PLANS.clear()
        _PLANS[memo] = known
    return known


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


def pin(
    found: Scan,
    supported: Mapping[str, frozenset[Platform]],
    bounds: Sequence[Bound] = (),
    taints: tolerations.ArchTaints | None = None,
    unknown: Mapping[str, str] | None = None,
    rewrites: Mapping[str, str] | None = None,
) -> Outcome:
    """Plan, splice and read back every workload of a stream, one document at a time.

    ``supported`` maps every image to the platforms it runs on; each of ``bounds`` further
    limits the node platforms a workload may be pinned to. With ``taints``, every workload
    also tolerates the platform taints of the platforms it is pinned to. A workload with an
    image in ``unknown`` (image -> why) is left as it is, with a warning. ``rewrites`` (image ->
    new reference) replaces the image fields of the workloads that are pinned (``--digests``).
    Conflicts and faults are findings; a document's fault never reaches another document, and
    when any error is found the outcome has no edits at all.
    """
    outcome = Outcome(found.text)
    unknown = unknown or {}
    rewrites = rewrites or {}
    for document in found.documents():
        outcome.findings.extend(document.findings)
        if document.parsed is None or not document.workloads:
            continue
        planned: list[_Planned] = []
        images: set[tuple[Any, ...]] = set()  # image fields rewritten in this document
        outcome.workloads += len(document.workloads)
        for workload in document.workloads:
            try:
                result, findings = _plan(workload, supported, bounds, taints, unknown, rewrites)
            except Exception as exc:  # a fault of this program: this workload's error only
                result, findings = None, [scanning.unexpected(workload.location, exc)]
            outcome.findings.extend(findings)
            if result is None:
                continue
            result = _once(result, images)
            if result.plan.ops:
                planned.append(result)
            else:
                outcome.unchanged += 1
        if not planned:
            continue
        try:
            edits, findings = _edit(document.parsed, planned)
        except Exception as exc:
            edits, findings = [], [scanning.unexpected(planned[0].workload.location, exc)]
        outcome.findings.extend(findings)
        if not findings:
            outcome.edits.extend(edits)
            outcome.changed.extend(p.workload.location for p in planned)
    if outcome.failed:
        outcome.edits = []
    return outcome


def _once(item: _Planned, seen: set[tuple[Any, ...]]) -> _Planned:
    """The plan without the image rewrites another workload of the document already makes
    (a SparkApplication's driver and executors share ``spec.image``)."""
    ops = []
    for op in item.plan.ops:
        if op[0] == "replace" and op[1] and op[1][-1] == "image":
            where = (*item.workload.path, *op[1])
            if where in seen:
                continue
            seen.add(where)
        ops.append(op)
    if len(ops) == len(item.plan.ops):
        return item
    return item._replace(plan=item.plan._replace(ops=tuple(ops)))


def _edit(parsed: yn.Parsed, planned: list[_Planned]) -> tuple[list[yamledit.Edit], list[Finding]]:
    """The edits of one document, read back and checked; or the findings saying why not.

    The fine-grained splices come first; when a layout does not allow them, or the text does
    not read back as planned, every touched entry is written out anew (the slower way)."""
    findings: list[Finding] = []
    for coarse in (False, True):
        findings = []
        try:
            splicer, own = _splice(parsed, planned, coarse, findings)
            edits = splicer.finish()
        except yamledit.EditError as exc:
            findings = [Finding("error", f"cannot edit: {exc}", planned[0].workload.location, None, 2)]
            continue
        except yn.YamlShapeError as exc:
            return [], [Finding("error", str(exc), planned[0].workload.location, None, 2)]
        if findings:
            return [], findings
        try:
            if _reads_back(parsed, planned, edits, own, splicer.rewritten or coarse):
                return edits, []
        except yamledit.EditError:
            pass
        except yn.YamlShapeError as exc:
            return [], [Finding("error", str(exc), planned[0].workload.location, None, 2)]
        findings = [
            Finding(
                "error",
                "internal error: the edited YAML did not read back as planned, so nothing was written; "
                "please report this with the input",
                planned[0].workload.location,
                None,
                2,
            )
        ]
    return [], findings


def _splice(
    parsed: yn.Parsed, planned: list[_Planned], coarse: bool, findings: list[Finding]
) -> tuple[yamledit.Splicer, list[list[yamledit.Edit]]]:
    styles: dict[tuple[Any, ...], yamledit.Style] = {}
    splicer = yamledit.Splicer(parsed, yamledit.Style())
    own: list[list[yamledit.Edit]] = []
    if not coarse:
        for item in planned:
            splicer.expect(item.workload.path, item.plan.ops)
    for item in planned:
        workload = item.workload
        style = styles.get(workload.object_path)
        if style is None:
            root = yn.deref(splicer.steps(workload.object_path)[-1].node)
            pod = splicer.steps(workload.path)[-1]
            near = (pod.key, yn.deref(pod.node)) if pod.key is not None else None
            style = styles[workload.object_path] = yamledit.detect_style(parsed, root, near)
        splicer.style = style
        mark = len(splicer.edits)
        try:
            if coarse:
                splicer.rewrite_entries(workload.path, item.plan.ops)
            else:
                splicer.apply(workload.path, item.plan.ops)
        except yamledit.EditError:
            splicer.rollback(mark)
            try:
                splicer.rewrite_entries(workload.path, item.plan.ops)
            except yamledit.EditError as exc:
                findings.append(
                    Finding("error", f"cannot edit {item.field}: {exc}", workload.location, item.field, 2)
                )
        own.append(splicer.edits[mark:])
    return splicer, own


def _data(parsed: yn.Parsed) -> Any:
    """The plain data of a parsed document, reading it fully if a block scalar's value is needed."""
    try:
        return yn.to_data(parsed.root)
    except yn.NeedFullParse:
        return yn.to_data(yn.compose(parsed.text, parsed.start, parsed.stop, full=True).root)


def _reads_back(
    parsed: yn.Parsed,
    planned: list[_Planned],
    edits: list[yamledit.Edit],
    own: list[list[yamledit.Edit]],
    whole: bool,
) -> bool:
    """Whether the edited text reads as the original with exactly the planned changes.

    Where each workload's edits lie within whole entries of its (block) pod spec, only those
    entries are read again; otherwise the whole document is."""
    if not whole and not parsed.full:
        checks = [_entries_read_back(parsed, p, e) for p, e in zip(planned, own, strict=True)]
        if all(c is True for c in checks):
            import itertools

            ordered = sorted((e.start, e.end) for e in edits)
            return all(a[1] <= b[0] for a, b in itertools.pairwise(ordered))  # no edit overlaps another
        if any(c is False for c in checks):
            return False
    text = yamledit.apply_edits(parsed.text, edits, parsed.start, parsed.stop)
    expected = _data(parsed)
    for item in planned:
        if not item.workload.path:  # the document is the unit (a Tekton TaskRun)
            expected = affinity.apply(expected, item.plan.ops)
            continue
        *up, last = item.workload.path
        parent = expected
        for part in up:
            parent = parent[part]
        parent[last] = affinity.apply(parent[last], item.plan.ops)
    try:
        actual = _data(yn.compose(text, 0, len(text)))
    except yn.YamlSyntaxError:
        return False
    return bool(actual == expected)


def _entries_read_back(parsed: yn.Parsed, item: _Planned, edits: list[yamledit.Edit]) -> bool | None:
    """Read back only the entries of a block pod spec that the edits touch (None when the
    layout does not allow reading them on their own)."""
    text = parsed.text
    if not edits:
        return None
    node: Any = parsed.root
    key = None
    for part in item.workload.path:
        if isinstance(part, int):
            node, key = node.value[part], None
        else:
            found = yn.find(node, part)
            if found is None:
                return None
            key, node = found.key, found.value
    if key is None or node.kind != "mapping" or node.flow or not node.value:
        return None
    bounds = []
    for k, v in node.value:
        if yn.is_merge_key(k):
            return None
        start = yamledit.line_start(text, k.start)
        if text[start : k.start].strip():
            return None
        bounds.append((start, yamledit.line_end(text, yamledit.content_end(text, v))))
    head = yamledit.line_end(text, key.end)
    first = bounds[0][0]
    low = high = None
    for edit in edits:
        if edit.start == edit.end and head <= edit.start <= first and text[edit.start - 1] == "\n":
            a = b = edit.start  # a new entry before the first one
        else:
            inside = [i for i, (s, _) in enumerate(bounds) if s <= edit.start]
            if not inside:
                return None
            a = bounds[inside[-1]][0]
            at_end = [i for i, (s, e) in enumerate(bounds) if s <= edit.end <= e]
            if not at_end:
                return None
            b = bounds[at_end[-1]][1]
        low = a if low is None else min(low, a)
        high = b if high is None else max(high, b)
    assert low is not None and high is not None
    read = _read_region(yamledit.apply_edits(text, edits, low, high))
    if read is None or read[0] != yamledit.column(text, node.value[0][0].start):
        return None
    try:
        current = {
            yn.text(k): yn.to_data(v, source=text)
            for (k, v), (s, e) in zip(node.value, bounds, strict=True)
            if low <= s and e <= high
        }
    except yn.NeedFullParse:  # a block scalar as a key
        return None
    expected = _applied(current, item.plan)
    return bool(read[2] == expected and read[1] == len(expected))


_APPLIED: dict[tuple[int, str], tuple[affinity.Plan, Any]] = {}


def _applied(current: dict[str, Any], plan: affinity.Plan) -> Any:
    """``affinity.apply(current, plan.ops)``, remembered for small inputs (a stream's workloads
    mostly get the same plan on the same entries; plans are remembered in :data:`_PLANS`)."""
    if len(current) > 2:
        return affinity.apply(current, plan.ops)
    memo = (id(plan), repr(current))
    known = _APPLIED.get(memo)
    if known is None or known[0] is not plan:
        if len(_APPLIED) >= 1024:
            _APPLIED.clear()
        known = _APPLIED[memo] = (plan, affinity.apply(current, plan.ops))
    return known[1]


_REGIONS: dict[str, tuple[int, int, Any] | None] = {}


def _read_region(text: str) -> tuple[int, int, Any] | None:
    """(column of its keys, number of keys, data) of a block mapping read on its own; None
    when it is not one. Streams repeat the same edit many times: a text read once is known."""
    if text in _REGIONS:
        return _REGIONS[text]
    result: tuple[int, int, Any] | None = None
    try:
        root = yn.compose(text, 0, len(text)).root
        if root is not None and root.kind == "mapping" and not root.flow:
            data = yn.to_data(root, source=text)
            result = (yamledit.column(text, root.value[0][0].start), len(root.value), data)
    except (yn.NeedFullParse, yn.YamlSyntaxError, yn.YamlShapeError):
        result = None
    if len(_REGIONS) >= 256:
        _REGIONS.clear()
    _REGIONS[text] = result
    return result


def static_platforms(scans: Iterable[Scan], platforms: frozenset[Platform]) -> dict[str, frozenset[Platform]]:
    """Every image of every workload supports exactly ``platforms`` (``--platform``)."""
    return {c.image: platforms for s in scans for w in s.workloads for c in w.containers}
