"""The pipeline of ``kubectl arch audit``: read the cluster, look its images up, search newer
tags for target platforms, judge (:mod:`.audit`). The command module only parses flags and
prints.

Data flow::

    cluster.client.Session --nodes--> NodeInfo records
        | discover(): which resources serve the workload kinds (built-in, declared)
        | list(resource, reduce) page by page: controllers (owners.controller), then pods
        v       (owners.Inventory.add_pod), each page reduced before the next is read
    owners.Inventory.workloads() --> Workload records (pods attributed to top-level owners)
        | every distinct image once: registry.Inspector.inspect_all, or a lock file
        | --target: registry.updates.search (tag lists, bounded look-ups)
        v
    audit.judge / audit.summarize --> findings, summary, the -o json document
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from . import audit
from . import platforms as plat
from .cluster import client as cluster
from .errors import Error, InputError
from .platforms import Platform

PODS = ("", "Pod")


class Settings(NamedTuple):
    namespace: str = ""  # "": the context's
    all_namespaces: bool = False
    selector: str = ""
    targets: tuple[str, ...] = ()
    pod_template_paths: tuple[str, ...] = ()
    locked: str = ""
    on_unknown_image: str = ""  # "" is skip: such workloads are reported unknown
    max_tag_candidates: int = 8
    kubeconfig: str = ""
    context: str = ""
    request_timeout: str = ""
    insecure_registries: tuple[str, ...] = ()
    registry_ca_file: str = ""
    refresh: bool = False
    tag_cache_ttl: str = ""
    # What resolve.check asks of every command's settings.
    platforms: tuple[str, ...] = ()
    from_registry: bool = False
    lock: str = ""
    digests: bool = False


class Progress(Protocol):
    def objects(self, count: int) -> None: ...
    def images(self, done: int, total: int) -> None: ...
    def tags(self, done: int, total: int) -> None: ...


class Report(NamedTuple):
    findings: list[audit.Finding]
    summary: audit.Summary
    nodes: list[Any]  # NodeInfo
    context: str
    namespace: str | None  # None: all namespaces
    targets: tuple[Platform, ...]
    unreadable: list[audit.Unreadable]
    warnings: list[str]
    failures: list[Error]  # images that could not be looked up, with --on-unknown-image=fail

    def document(self) -> dict[str, Any]:
        return audit.to_json(
            self.findings,
            self.summary,
            self.nodes,
            self.context,
            self.namespace,
            self.unreadable,
            self.warnings,
        )


def check(settings: Settings) -> tuple[tuple[Platform, ...], Any]:
    """Reject bad option values before anything is read (InputError naming the flag); the
    targets and the unknown-image policy."""
    from . import resolve
    from .manifest.workloads import KindError, parse_declaration

    for value in settings.pod_template_paths:
        try:
            parse_declaration(value)
        except KindError as exc:
            raise InputError(f"--pod-template-path: {exc}") from None
    try:
        targets = tuple(sorted(plat.parse_list(settings.targets), key=plat.sort_key))
    except plat.PlatformError as exc:
        raise InputError(f"--target: {exc}") from None
    if settings.max_tag_candidates < 0:
        raise InputError("--max-tag-candidates: must be 0 (no search) or more")
    resolve.check(settings)
    return targets, resolve.parse_policy(settings.on_unknown_image or "skip")


def _resources(found: Mapping[tuple[str, str], cluster.Resource]) -> list[cluster.Resource]:
    """The resources to list, pods last (their owners must be known first); a kind served by
    a group and by the deprecated ``extensions`` group is listed once."""
    kinds_elsewhere = {kind for (group, kind) in found if group != "extensions"}
    chosen = [r for (group, kind), r in found.items() if group != "extensions" or kind not in kinds_elsewhere]
    return sorted(chosen, key=lambda r: ((r.group, r.kind) == PODS, r.group, r.kind))


def read_cluster(
    session: cluster.Session, settings: Settings, namespace: str | None, progress: Progress | None
) -> tuple[list[Any], list[Any], list[audit.Unreadable], list[str]]:
    """Nodes, workloads, what the server refused, and warnings."""
    from .cluster import owners
    from .cluster.nodeinfo import lacking_ga_labels
    from .manifest.workloads import Kinds

    listing = session.nodes()
    nodes = list(listing.nodes)
    warnings = list(listing.warnings)
    legacy = lacking_ga_labels(nodes)
    if legacy is not None:
        warnings.append(legacy)
    if progress is not None:
        progress.objects(len(nodes))
    kinds = Kinds.parse(settings.pod_template_paths)
    resources = _resources(session.discover(kinds.known()))
    inventory = owners.Inventory({n.name: audit.platform_key(n) for n in nodes})
    unreadable: list[audit.Unreadable] = []
    listed: list[tuple[str, str]] = []
    on_page = progress.objects if progress is not None else None
    for resource in resources:
        key = (resource.group, resource.kind)
        if key == PODS:
            reduce: Callable[[dict[str, Any]], Any] = inventory.add_pod
        else:
            paths = kinds.paths(resource.api_version, resource.kind)

            def reduce(item: dict[str, Any], paths: Any = paths, resource: Any = resource) -> None:
                found = owners.controller(item, resource.kind, resource.api_version, paths)
                if found is not None:
                    inventory.add_controller(found)

        try:
            session.list(resource, reduce, namespace, settings.selector or None, on_page)
        except cluster.Forbidden as exc:
            unreadable.append(audit.Unreadable(resource.name, str(exc)))
            warnings.append(f"{exc}; the rest is audited without it")
            continue
        listed.append(key)
    if resources and not listed:
        raise cluster.ClusterError(
            f"API server {session.conn.server} refused to list every workload resource "
            f"({', '.join(r.name for r in resources)}); nothing to audit"
        )
    workloads, unlisted = inventory.workloads(listed, selected=bool(settings.selector))
    refused = {u.resource for u in unreadable}
    for (group, kind), count in sorted(unlisted.items()):
        qualified = f"{kind}.{group}" if group else kind
        if any(r.kind == kind and r.group == group and r.name in refused for r in resources):
            continue
        warnings.append(
            f"{count} object(s) are owned by {qualified} objects, a kind the audit does not read: they "
            f"are reported on their own; declare it (--pod-template-path {qualified}=PATH) to audit it "
            "as one workload"
        )
    return nodes, workloads, unreadable, warnings


def images_of(workloads: Sequence[Any]) -> list[str]:
    """Every image reference of the workloads and of their pods, each once."""
    found: dict[str, None] = {}
    for w in workloads:
        for c in w.containers:
            found.setdefault(c.image, None)
        for p in w.placed:
            for image in p.images:
                found.setdefault(image, None)
    return list(found)


def _answer(info: Any) -> audit.Image:
    platforms = frozenset(e.platform for e in info.platforms)
    digests = frozenset({info.digest, *(e.digest for e in info.platforms)})
    return audit.Image(platforms, "", info.digest, digests)


def run(settings: Settings, progress: Progress | None = None) -> Report:
    """The whole audit. Errors: ClusterError (exit 3) when the cluster cannot be read at all
    (kubeconfig, connection, credentials, nodes refused); InputError for bad options or a
    selector the server rejects."""
    targets, policy = check(settings)
    options = cluster.Options(
        settings.kubeconfig or None, settings.context or None, None, settings.request_timeout or None
    )
    with cluster.Session(options) as session:
        namespace = None if settings.all_namespaces else settings.namespace or session.namespace
        nodes, workloads, unreadable, warnings = read_cluster(session, settings, namespace, progress)
        context = session.context
    images = images_of(workloads)
    answers, updates, notes, failures = _look_up(settings, images, workloads, targets, policy, progress)
    warnings.extend(notes)
    findings = audit.judge(workloads, answers, nodes, targets, updates)
    summary = audit.summarize(findings, targets)
    return Report(findings, summary, nodes, context, namespace, targets, unreadable, warnings, failures)


def _look_up(
    settings: Settings,
    images: list[str],
    workloads: Sequence[Any],
    targets: Sequence[Platform],
    policy: Any,
    progress: Progress | None,
) -> tuple[dict[str, audit.Image], dict[tuple[str, Platform], str], list[str], list[Error]]:
    """Image answers (after --on-unknown-image), newer tags per (image, target), notes, and
    the failures that end the run under --on-unknown-image=fail."""
    notes: list[str] = []
    updates: dict[tuple[str, Platform], str] = {}
    raw: Mapping[str, Any]
    inspector = None
    if settings.locked:
        from . import lock

        locked = lock.load(settings.locked)
        raw = {image: locked.answer(image) for image in images}
    elif images:
        from . import registry

        inspector = registry.open_inspector(
            registry.Settings(
                insecure=tuple(settings.insecure_registries),
                ca_file=settings.registry_ca_file,
                timeout=registry.timeout(settings.request_timeout),
                refresh=settings.refresh,
                tag_ttl=registry.tag_ttl(settings.tag_cache_ttl),
            )
        )
        raw = inspector.inspect_all(images, progress.images if progress is not None else None)
    else:
        raw = {}
    try:
        answers: dict[str, audit.Image] = {}
        failures: list[Error] = []
        for image in images:
            found = raw[image]
            if not isinstance(found, Error):
                answers[image] = _answer(found)
            elif policy.action == "assume":
                answers[image] = audit.Image(policy.assume)
                notes.append(f"{found}; assuming {plat.format_list(policy.assume)}")
            else:
                answers[image] = audit.Image(None, str(found))
                failures.append(found)
        if policy.action != "fail":
            failures = []
        if targets and not failures:
            blocked = _blocked(workloads, answers, targets)
            if blocked and settings.locked:
                notes.append("newer tags are not searched with --locked (no registry is contacted)")
            elif blocked and inspector is not None:
                from .registry import updates as searching

                found_updates = searching.search(
                    inspector,
                    blocked,
                    settings.max_tag_candidates,
                    progress.tags if progress is not None else None,
                )
                updates, notes = found_updates.updates, notes + found_updates.notes
        return answers, updates, notes, failures
    finally:
        if inspector is not None:
            inspector.client.close()


def _blocked(
    workloads: Sequence[Any], answers: Mapping[str, audit.Image], targets: Sequence[Platform]
) -> dict[str, list[Platform]]:
    """Image -> the targets it lacks, for the images of the workloads' containers."""
    out: dict[str, list[Platform]] = {}
    for image in dict.fromkeys(c.image for w in workloads for c in w.containers):
        answer = answers.get(image)
        if answer is None or answer.platforms is None:
            continue
        lacking = [
            t
            for t in targets
            if not any(plat.matches(t, p, allow_variant_fallback=True) for p in answer.platforms)
        ]
        if lacking:
            out[image] = lacking
    return out
