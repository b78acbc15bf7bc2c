"""The pipeline of ``kubectl arch audit``: read the cluster, look its images up, search newer
tags for target platforms, judge (:mod:`.audit`). The command module only parses flags and
prints.

Data flow::

    cluster.client.Session
        | discover(): which resources serve the workload kinds (built-in, declared)
        | list(resource, reduce) page by page (the next page fetched while one is reduced):
        |       controllers (owners.controller), then the nodes (NodeInfo records) and the pods
        v       (owners.Inventory.add_pod)
    owners.Inventory.workloads() --> Workload records (pods attributed to top-level owners)
        | every distinct image once: registry.Inspector.inspect_all in the background from the
        | page that first names it, or a lock file
        | --target: registry.updates.search (tag lists, bounded look-ups)
        v
    audit.judge / audit.summarize --> findings, summary, the -o json document
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
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
    session: cluster.Session,
    settings: Settings,
    namespace: str | None,
    progress: Progress | None,
    on_images: Callable[[list[str]], None] | None = None,
) -> tuple[list[Any], list[Any], list[audit.Unreadable], list[str]]:
    """Nodes, workloads, what the server refused, and warnings. ``on_images`` gets the image
    references not seen before after each list page (their look-ups can start while the rest
    is read): the workloads are read before the nodes, so that the first page of Deployments
    names most of a cluster's images."""
    from .cluster import owners
    from .cluster.nodeinfo import lacking_ga_labels
    from .manifest.workloads import Kinds

    kinds = Kinds.parse(settings.pod_template_paths)
    warnings: list[str] = []
    served = session.discover(kinds.known(), warnings)
    resources = _resources({key: r for key, r in served.items() if not _declared_none(kinds, r)})
    platforms: dict[str, owners.PlatformKey] = {}
    inventory = owners.Inventory(platforms)
    unreadable: list[audit.Unreadable] = []
    listed: list[tuple[str, str]] = []
    seen: set[str] = set()
    fresh: list[str] = []  # images met on the current page, not seen before

    def note(found: Iterable[Any]) -> None:
        for container in found:
            if container.image not in seen:
                seen.add(container.image)
                fresh.append(container.image)

    def on_page(count: int) -> None:
        if progress is not None:
            progress.objects(count)
        if fresh and on_images is not None:
            on_images(list(fresh))
        fresh.clear()

    nodes: list[Any] = []

    def read_nodes() -> None:
        listing = session.nodes()
        nodes.extend(listing.nodes)
        legacy = lacking_ga_labels(nodes)
        warnings[:0] = [*listing.warnings, *([legacy] if legacy is not None else [])]
        platforms.update((n.name, audit.platform_key(n)) for n in nodes)
        if progress is not None:
            progress.objects(len(nodes))

    # The lists in the order they are read (the nodes just before the pods); each list's
    # first page is asked for while the one before it is read.
    order = [r for r in resources if (r.group, r.kind) != PODS] + [cluster.NODES]
    order += [r for r in resources if (r.group, r.kind) == PODS]
    selector = settings.selector or None
    for index, resource in enumerate(order):
        if index + 1 < len(order):
            following = order[index + 1]
            if following is cluster.NODES:
                session.prefetch(cluster.NODES)
            else:
                session.prefetch(following, namespace, selector)
        if resource is cluster.NODES:
            read_nodes()  # the pods' nodes give their platforms
            continue
        key = (resource.group, resource.kind)
        if key == PODS:

            def reduce(item: dict[str, Any], resource: Any = resource) -> None:
                spec = item.get("spec")
                error = _reader_error(item, resource, kinds) if owners.suspect(spec) else ""
                pod = inventory.add_pod(item, error)
                if pod is not None:
                    note(pod.containers)

        else:

            def reduce(item: dict[str, Any], resource: Any = resource) -> None:
                found = _controller(item, resource, kinds)
                if found is not None:
                    inventory.add_controller(found)
                    for t in found.templates:
                        note(t.containers)

        try:
            session.list(resource, reduce, namespace, selector, on_page, warnings)
        except cluster.Refused as exc:  # 403, 404, 500...: that list only
            unreadable.append(audit.Unreadable(resource.name, str(exc), isinstance(exc, cluster.Forbidden)))
            warnings.append(f"{exc}; the rest is audited without it")
            continue
        listed.append(key)
    if resources and not listed and not all(u.forbidden for u in unreadable):
        failed = [u for u in unreadable if not u.forbidden]
        raise cluster.ClusterError(
            f"API server {session.conn.server} could not list any workload resource "
            f"({', '.join(u.resource for u in unreadable)}); nothing to audit; the first error: "
            f"{failed[0].message}"
        )
    if resources and not listed:
        # Permissions granted by RoleBindings hold in their namespaces only, never for -A.
        hint = (
            "audit a namespace you may read with -n NAMESPACE"
            if namespace is None
            else "ask a cluster administrator for permission to list them"
        )
        raise cluster.ClusterError(
            f"API server {session.conn.server} refused to list every workload resource "
            f"({', '.join(r.name for r in resources)}); nothing to audit; {hint}"
        )
    workloads, unlisted = inventory.workloads(listed, selected=bool(settings.selector))
    for w in workloads:
        where = f"{w.namespace}/" if w.namespace else ""
        if w.error:
            warnings.append(f"{where}{w.kind}/{w.name}: {w.error}; its status is unknown")
        warnings.extend(f"{where}{w.kind}/{w.name}: {text}" for text in w.notes)
    refused = {u.resource for u in unreadable}
    for (group, kind), count in sorted(unlisted.items()):
        qualified = f"{kind}.{group}" if group else kind
        if any(r.kind == kind and r.group == group and r.name in refused for r in resources):
            continue
        if any(kind == k and (groups is None or group in groups) for k, groups in kinds.known()):
            if (group, kind) in served or any(f"kinds of {group}/" in w for w in warnings):
                continue  # a kind it reads, whose discovery or list failed: said above
            warnings.append(
                f"{count} object(s) are owned by {qualified} objects, a kind the API server does not serve "
                "(discovery does not list it): they are reported on their own"
            )
            continue
        warnings.append(
            f"{count} object(s) are owned by {qualified} objects, a kind the audit does not read: they "
            f"are reported on their own; declare it (--pod-template-path {qualified}=PATH) to audit it "
            "as one workload"
        )
    return nodes, workloads, unreadable, warnings


def _declared_none(kinds: Any, resource: cluster.Resource) -> bool:
    """Whether a declaration ``Kind.group=`` says this resource's kind is no workload (Kubernetes'
    own kinds too, as ``pin`` leaves such objects alone): it is not listed."""
    found = [
        d
        for d in kinds.declared.get(resource.kind, ())
        if d.group == resource.group or (d.group is None and resource.group)
    ]
    return bool(found) and not any(d.path or d.units for d in found)


def _controller(item: dict[str, Any], resource: cluster.Resource, kinds: Any) -> Any:
    """One listed object reduced to an :class:`.owners.Controller` (None: not a workload).
    Kubernetes' own kinds keep their one pod template at a fixed path, read straight from the
    data (unless a declaration says otherwise); every other kind is read by the manifest
    reader (:func:`.manifest.scan.read_object`), so that audit judges the pod templates and
    units ``pin`` and ``check`` find in the same object: optional templates, a Workflow's
    templates with the workflow's placement as default, a SparkApplication's driver and
    executor."""
    from .cluster import owners
    from .manifest.workloads import BUILTIN

    builtin = BUILTIN.get(resource.kind)
    if (
        builtin is not None
        and resource.group in builtin[0]
        and not kinds.declared_in(resource.kind, resource.group)
    ):
        specs = owners.pod_specs(item, builtin[1])
        if specs and not any(owners.suspect(spec) for _, spec in specs):
            return owners.controller(item, resource.kind, resource.api_version, [builtin[1]])
    read, error = _read(item, resource, kinds)
    templates = []
    for w in read.workloads:
        placement = {k: w.pod[k] for k in owners.PLACEMENT_KEYS if w.pod.get(k) is not None}
        containers = tuple(
            owners.Container(c.field, c.name, c.image.strip()) for c in w.containers if c.image.strip()
        )
        templates.append(owners.Template(w.field, placement, containers))
    return owners.controller(item, resource.kind, resource.api_version, templates=templates, error=error)


def _read(item: dict[str, Any], resource: cluster.Resource, kinds: Any) -> tuple[Any, str]:
    """An object read by the manifest reader (:func:`.manifest.scan.read_object`), and why
    its pod templates cannot be read, in the words ``pin`` gives for the same object ("" when
    they can): ``spec.template.spec.containers is a mapping, not a list``, ``no pod spec at
    spec.template.spec``, ``container 'x' has no image``."""
    from .manifest import scan

    obj = {**item, "kind": resource.kind, "apiVersion": resource.api_version}  # lists may leave them out
    read = scan.read_object(obj, kinds, resource.name)
    for finding in read.findings:
        if finding.severity == "error" or finding.skipped:
            message = finding.message
            prefix = f"{scan.INCOMPLETE}: "
            if finding.skipped and message.startswith(prefix) and message.endswith("; skipped"):
                message = message[len(prefix) : -len("; skipped")]
            return read, message
    return read, ""


def _reader_error(item: dict[str, Any], resource: cluster.Resource, kinds: Any) -> str:
    """Why an object's pod spec cannot be read (the manifest reader's words), or a plain
    account of it when the reader finds nothing to say."""
    return _read(item, resource, kinds)[1] or "its pod spec cannot be read"


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
    lookups = _Lookups(settings, progress)
    try:
        with cluster.Session(options) as session:
            namespace = None if settings.all_namespaces else settings.namespace or session.namespace
            nodes, workloads, unreadable, warnings = read_cluster(
                session, settings, namespace, progress, lookups.start
            )
            context = session.context
        images = images_of(workloads)
        answers, updates, notes, failures = _judge_images(
            settings, images, lookups.finish(images), workloads, targets, policy, lookups.inspector, progress
        )
    finally:
        lookups.close()
    warnings.extend(notes)
    findings = audit.judge(workloads, answers, nodes, targets, updates)
    summary = audit.summarize(findings, targets)
    return Report(findings, summary, nodes, context, namespace, targets, unreadable, warnings, failures)


class _Lookups:
    """The image look-ups of a run: from a lock file, or from the registries, where each image
    is looked up in the background from the list page that first names it, while the rest of
    the cluster is read (each batch through :meth:`Inspector.inspect_all`: the registry
    client's per-host bound on concurrent requests holds across batches)."""

    def __init__(self, settings: Settings, progress: Progress | None) -> None:
        import threading

        self.settings = settings
        self.progress = progress
        self.inspector: Any = None
        self.found: dict[str, Any] = {}
        self.threads: list[Any] = []
        self.lock = threading.Lock()
        self.asked = 0
        self.answered = 0

    def _open(self) -> Any:
        if self.inspector is None:
            from . import registry

            settings = self.settings
            self.inspector = registry.open_inspector(
                registry.Settings(
                    insecure=tuple(settings.insecure_registries),
                    ca_file=settings.registry_ca_file,
                    timeout=registry.timeout(settings.request_timeout),
                    refresh=settings.refresh,
                    tag_ttl=registry.tag_ttl(settings.tag_cache_ttl),
                    trust_platforms=True,  # a cold image: one request, or two
                )
            )
        return self.inspector

    def _on_answer(self, done: int, total: int) -> None:
        with self.lock:
            self.answered += 1
            answered, asked = self.answered, self.asked
        if self.progress is not None:
            self.progress.images(answered, asked)

    def start(self, images: list[str]) -> None:
        """Look ``images`` up in the background (registry mode only)."""
        if self.settings.locked or not images:
            return
        import threading

        inspector = self._open()
        with self.lock:
            self.asked += len(images)

        def run() -> None:
            try:
                found = inspector.inspect_all(images, self._on_answer, note_cached=False)
            except Exception:  # looked up again by finish(), where the error is reported
                return
            with self.lock:
                self.found.update(found)

        thread = threading.Thread(target=run, name="lookups", daemon=True)
        thread.start()
        self.threads.append(thread)

    def finish(self, images: list[str]) -> Mapping[str, Any]:
        """The answer (an ImageInfo, or an Error) for every image."""
        if self.settings.locked:
            from . import lock

            locked = lock.load(self.settings.locked)
            return {image: locked.answer(image) for image in images}
        for thread in self.threads:
            thread.join()
        found = dict(self.found)
        rest = [image for image in images if image not in found]
        if rest:
            with self.lock:
                self.asked += len(rest)
            found.update(self._open().inspect_all(rest, self._on_answer, note_cached=False))
        if self.inspector is not None:
            from .registry.images import note_cached_answers

            note_cached_answers(found.values(), self.inspector.cache.tag_ttl)
        return found

    def close(self) -> None:
        if self.inspector is not None:
            self.inspector.client.close()


def _judge_images(
    settings: Settings,
    images: list[str],
    raw: Mapping[str, Any],
    workloads: Sequence[Any],
    targets: Sequence[Platform],
    policy: Any,
    inspector: Any,
    progress: Progress | None,
) -> tuple[dict[str, audit.Image], dict[tuple[str, Platform], str], list[str], list[Error]]:
    """Image answers (after --on-unknown-image), newer tags per (image, target), notes, and
    the failures that end the run under --on-unknown-image=fail."""
    notes: list[str] = []
    updates: dict[tuple[str, Platform], str] = {}
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
        # Each image once, whatever the status of its workloads (a broken one stays broken).
        notes.extend(str(failure) for failure in failures)
        failures = []
    if targets and not failures:
        blocked = _blocked(workloads, answers, targets)
        if blocked and settings.locked:
            notes.append("newer tags are not searched with --locked (no registry is contacted)")
        elif blocked and inspector is not None:
            from .registry import updates as searching

            on_tags = progress.tags if progress is not None else None
            found_updates = searching.search(inspector, blocked, settings.max_tag_candidates, on_tags)
            updates, notes = found_updates.updates, notes + found_updates.notes
    return answers, updates, notes, failures


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
