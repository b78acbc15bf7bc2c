"""What runs in a cluster, workload by workload: pure reductions of API objects (plain JSON
data) and the attribution of pods to their top-level owners. No I/O; :mod:`.client` reads.

Each object is reduced to what the audit needs as its page is read (:func:`controller` for
objects with pod templates, :meth:`Inventory.add_pod` for pods), so memory grows with the
number of workloads and of distinct (workload, node platform, images) combinations, not with
the raw objects: pods of one workload on nodes of one platform are one counter.

Attribution follows ``ownerReferences`` entries marked ``controller: true``, as the garbage
collector and ``kubectl describe`` do, matching the owner by uid in the dependent's namespace
(:meth:`Inventory.owner_of`: the garbage collector takes a namespaced dependent's reference to
another namespace's object as absent): Pod -> ReplicaSet -> Deployment, Pod -> Job ->
CronJob, Pod -> ReplicaSet -> Rollout, Pod -> TaskRun -> PipelineRun; a pod owned by a pod of
an ecosystem's kind belongs where that pod does (Spark executor -> driver -> SparkApplication).
The top-level owner among the objects read is the workload; ReplicaSets and Jobs that something
read owns are not workloads of their own. A Pod without a controller (or whose controller is its Node:
static pods) is a workload of its own. Pods whose controller was not read (its kind is not
one the audit lists, or the server refused to list it) are grouped under that controller,
judged from the pods alone; with a label selector, objects whose controller exists but was
not selected are left out.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

CONTAINER_FIELDS = ("initContainers", "containers", "ephemeralContainers")
STATUS_FIELDS = {
    "initContainers": "initContainerStatuses",
    "containers": "containerStatuses",
    "ephemeralContainers": "ephemeralContainerStatuses",
}
# What the scheduler and the kubelet read to place a pod (:func:`..fit.placement`), and what
# decides a DaemonSet's implied tolerations (``hostNetwork``).
PLACEMENT_KEYS = ("nodeSelector", "affinity", "tolerations", "nodeName", "os", "hostNetwork")
# Node names kept per (workload, node platform, images) group, for messages and the JSON.
MAX_NODE_NAMES = 20
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")

PlatformKey = tuple[str, str, str]  # (os, architecture, Windows build or "")
# Kubernetes' own kinds that own pods (and a static pod's Node): their pods own no pods.
_POD_CONTROLLERS = frozenset(
    {"ReplicaSet", "Job", "StatefulSet", "DaemonSet", "ReplicationController", "Node"}
)


class Container(NamedTuple):
    field: str  # initContainers, containers or ephemeralContainers
    name: str
    image: str


class Template(NamedTuple):
    """A pod spec, reduced: where it is, what constrains its placement, its containers."""

    path: str  # dotted path in its object ("spec.template.spec"; "spec" for a Pod)
    placement: Mapping[str, Any]  # nodeSelector, affinity, tolerations (plain data)
    containers: tuple[Container, ...]


class OwnerRef(NamedTuple):
    uid: str
    kind: str
    api_version: str
    name: str

    @property
    def group(self) -> str:
        return self.api_version.split("/", 1)[0] if "/" in self.api_version else ""


class Controller(NamedTuple):
    """An object with pod templates (Deployment, Job, a declared kind...)."""

    uid: str
    kind: str
    api_version: str
    namespace: str
    name: str
    owner: OwnerRef | None  # its controller, when it has one
    templates: tuple[Template, ...]
    error: str = ""  # why its pod templates could not be read (the manifest reader's words)

    @property
    def group(self) -> str:
        return self.api_version.split("/", 1)[0] if "/" in self.api_version else ""


class Placed(NamedTuple):
    """Pods of a workload on nodes of one platform, running the same images."""

    platform: PlatformKey
    images: tuple[str, ...]  # of every container, in pod order
    pods: int
    nodes: tuple[str, ...]  # their nodes' names, at most MAX_NODE_NAMES


class Running(NamedTuple):
    """What ``status.*ContainerStatuses[].imageID`` says pods run for one image reference."""

    image: str
    digest: str
    pods: int


class Workload(NamedTuple):
    """A workload of the cluster and what the audit knows of it."""

    kind: str
    api_version: str
    namespace: str
    name: str
    templates: tuple[Template, ...]  # what new pods are made from ((): nothing more will be)
    containers: tuple[Container, ...]  # its images: the templates', or its pods'
    pods: int  # pods read
    placed: tuple[Placed, ...]  # pods assigned to nodes (Succeeded ones left out)
    running: tuple[Running, ...]
    from_pods: bool = False  # its own object was not read: judged from its pods
    error: str = ""  # why its object (or a pod of it) could not be read: its status is unknown
    notes: tuple[str, ...] = ()  # what the audit could not judge about it (pods on unknown nodes...)


def _mapping(value: Any) -> Mapping[str, Any]:
    if type(value) is dict:
        return value
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return sys.intern(value) if isinstance(value, str) else ""


def controller_ref(obj: Mapping[str, Any]) -> OwnerRef | None:
    """The ``ownerReferences`` entry marked ``controller: true``, or None."""
    refs = _mapping(obj.get("metadata")).get("ownerReferences")
    for ref in refs if isinstance(refs, list) else ():
        if isinstance(ref, Mapping) and ref.get("controller") is True and isinstance(ref.get("uid"), str):
            return OwnerRef(
                ref["uid"], _text(ref.get("kind")), _text(ref.get("apiVersion")), _text(ref.get("name"))
            )
    return None


def containers_of(spec: Mapping[str, Any]) -> tuple[Container, ...]:
    """Every container of a pod spec (init, regular, ephemeral), those without an image left out."""
    out: list[Container] = []
    for field in CONTAINER_FIELDS:
        items = spec.get(field)
        for item in items if isinstance(items, list) else ():
            if isinstance(item, Mapping) and isinstance(item.get("image"), str) and item["image"].strip():
                out.append(Container(field, _text(item.get("name")), sys.intern(item["image"].strip())))
    return tuple(out)


def suspect(spec: Any) -> bool:
    """Whether a pod spec is other than the API server keeps it (``containers`` a non-empty
    list; each container list a list of mappings with a non-empty string ``image``): such an
    object is read again by the manifest reader, whose words say what is wrong."""
    if not isinstance(spec, Mapping):
        return True
    for field in CONTAINER_FIELDS:
        items = spec.get(field)
        if items is None and field != "containers":
            continue
        if not isinstance(items, list) or (field == "containers" and not items):
            return True
        for item in items:
            if not isinstance(item, Mapping):
                return True
            image = item.get("image")
            if not isinstance(image, str) or not image.strip():
                return True
    return False


def template(spec: Mapping[str, Any], path: str) -> Template:
    placement = {key: spec[key] for key in PLACEMENT_KEYS if spec.get(key) is not None}
    return Template(path, placement, containers_of(spec))


def pod_specs(obj: Any, path: Sequence[str], where: str = "") -> list[tuple[str, Mapping[str, Any]]]:
    """The mappings at ``path`` in an object (``*`` stands for every value of a mapping or
    item of a list; the typed ``[*]`` and ``{*}`` of the ecosystem's kinds, as the API server
    has validated the object, likewise), with their dotted paths."""
    if not path:
        return [(where, obj)] if isinstance(obj, Mapping) else []
    head, rest = path[0], path[1:]
    if head in ("*", "[*]", "{*}"):
        if isinstance(obj, Mapping):
            pairs: Iterable[tuple[str, Any]] = ((str(k), v) for k, v in obj.items())
        elif isinstance(obj, list):
            pairs = ((f"[{i}]", v) for i, v in enumerate(obj))
        else:
            return []
        out = []
        for key, value in pairs:
            joined = f"{where}{key}" if key.startswith("[") else f"{where}.{key}" if where else key
            out.extend(pod_specs(value, rest, joined))
        return out
    if not isinstance(obj, Mapping) or head not in obj:
        return []
    return pod_specs(obj[head], rest, f"{where}.{head}" if where else head)


def controller(
    obj: Mapping[str, Any],
    kind: str,
    api_version: str,
    paths: Iterable[Sequence[str]] = (),
    templates: Sequence[Template] | None = None,
    error: str = "",
) -> Controller | None:
    """An object with pod templates, reduced: the templates at ``paths`` (None when it has
    none there), or ``templates`` as read elsewhere (a kind whose pods are built from several
    places, :func:`..manifest.scan.read_object`), which may be none: an object whose pods are
    defined in another object (a TaskRun's ``taskRef``) still owns them."""
    metadata = _mapping(obj.get("metadata"))
    if templates is None:
        templates = tuple(template(spec, where) for path in paths for where, spec in pod_specs(obj, path))
        if not templates and not error:
            return None
    return Controller(
        _text(metadata.get("uid"))
        or f"{kind}/{_text(metadata.get('namespace'))}/{_text(metadata.get('name'))}",
        sys.intern(kind),
        sys.intern(api_version),
        _text(metadata.get("namespace")),
        _text(metadata.get("name")),
        controller_ref(obj),
        tuple(templates),
        error,
    )


def running_digest(image_id: Any) -> str:
    """The manifest digest in a container status's ``imageID`` (``docker.io/library/nginx@sha256:...``,
    ``docker-pullable://nginx@sha256:...``); "" when it names none (a bare ``sha256:...`` is the
    image's config, not a manifest)."""
    if not isinstance(image_id, str) or "@" not in image_id:
        return ""
    digest = image_id.rsplit("@", 1)[1]
    return sys.intern(digest) if _DIGEST.fullmatch(digest) else ""


class _Group:
    """The pods of one workload, as counters."""

    __slots__ = (
        "containers",
        "error",
        "namespace",
        "owner",
        "pending",
        "placed",
        "pods",
        "running",
        "unplaced",
    )

    def __init__(self, namespace: str, owner: OwnerRef) -> None:
        self.namespace = namespace
        self.owner = owner
        self.pods = 0
        self.placed: dict[tuple[PlatformKey, tuple[str, ...]], list[Any]] = {}
        self.running: dict[tuple[str, str], int] = {}
        self.containers: dict[Container, None] = {}
        self.pending: Template | None = None  # a bare pod not assigned to a node yet
        self.error = ""  # why a pod of it could not be read ("pod NAME: ...")
        self.unplaced: list[Any] = [0, []]  # pods on nodes the node list lacks, and those nodes' names


def _unplaced(groups: Sequence[_Group]) -> tuple[str, ...]:
    """A note on pods assigned to nodes the node list does not hold (deleted since, or listed
    by another view of the cluster): their platform is unknown, so they are not judged."""
    count = sum(g.unplaced[0] for g in groups)
    if not count:
        return ()
    names = sorted({n for g in groups for n in g.unplaced[1]})[:MAX_NODE_NAMES]
    nodes = f"node {names[0]}" if len(names) == 1 else f"nodes {', '.join(names)}"
    return (
        f"{count} pod(s) assigned to {nodes}, which the node list does not hold: their platform is unknown "
        "and they are not judged",
    )


class Inventory:
    """Accumulates the controllers and pods of a cluster, then attributes pods to workloads.

    ``platforms`` maps node names to their platform; pods on nodes it does not know are
    counted but not placed."""

    def __init__(self, platforms: Mapping[str, PlatformKey]) -> None:
        self.platforms = platforms
        self.controllers: dict[str, Controller] = {}
        self.groups: dict[tuple[str, str], _Group] = {}  # by (namespace, owner uid)
        # Pods owned by a kind that is not Kubernetes' own, by uid: a pod of theirs may own
        # pods in turn (a Spark driver owns its executors), which then belong to the same
        # workload. Kubernetes' own controllers' pods own none: they are not kept.
        self.pod_owners: dict[tuple[str, str], OwnerRef] = {}  # by (namespace, pod uid)

    def add_controller(self, found: Controller) -> None:
        self.controllers.setdefault(found.uid, found)

    def add_pod(self, obj: Mapping[str, Any], error: str = "") -> Template | None:
        """Count one Pod object; its spec reduced, or None when it is not one (no
        metadata.name). ``error``: why its spec could not be read (:func:`suspect`, in the
        manifest reader's words); its workload's status is then unknown."""
        metadata = _mapping(obj.get("metadata"))
        name = _text(metadata.get("name"))
        if not name:
            return None
        namespace = _text(metadata.get("namespace"))
        spec = _mapping(obj.get("spec"))
        status = _mapping(obj.get("status"))
        owner = controller_ref(obj)
        bare = owner is None or owner.kind == "Node"  # static pods are their node's mirror
        if bare:
            uid = _text(metadata.get("uid")) or f"Pod/{namespace}/{name}"
            owner = OwnerRef(uid, "Pod", "v1", name)
        assert owner is not None
        if not bare and owner.kind not in _POD_CONTROLLERS and owner.kind != "Pod":
            uid = _text(metadata.get("uid"))
            if uid:
                self.pod_owners[(namespace, uid)] = owner
        group = self.groups.get((namespace, owner.uid))
        if group is None:
            group = self.groups[(namespace, owner.uid)] = _Group(namespace, owner)
        group.pods += 1
        if error and not group.error:
            group.error = error if bare else f"pod {name}: {error}"
        found = template(spec, "spec")
        for container in found.containers:
            group.containers.setdefault(container, None)
        node = _text(spec.get("nodeName"))
        if bare and not node:
            group.pending = found
        phase = status.get("phase")
        platform = self.platforms.get(node) if node else None
        if platform is None and node and phase != "Succeeded":
            group.unplaced[0] += 1
            if len(group.unplaced[1]) < MAX_NODE_NAMES and node not in group.unplaced[1]:
                group.unplaced[1].append(node)
        if platform is not None and phase != "Succeeded":
            key = (platform, tuple(c.image for c in found.containers))
            entry = group.placed.get(key)
            if entry is None:
                entry = group.placed[key] = [0, []]
            entry[0] += 1
            if len(entry[1]) < MAX_NODE_NAMES and node not in entry[1]:
                entry[1].append(node)
        images = {c.name: c.image for c in found.containers}
        for field in CONTAINER_FIELDS:
            statuses = status.get(STATUS_FIELDS[field])
            for item in statuses if isinstance(statuses, list) else ():
                if not isinstance(item, Mapping):
                    continue
                image = images.get(_text(item.get("name")))
                digest = running_digest(item.get("imageID"))
                if image and digest:
                    group.running[(image, digest)] = group.running.get((image, digest), 0) + 1
        return found

    def owner_of(self, namespace: str, ref: OwnerRef | None) -> Controller | None:
        """The object an owner reference names, as the garbage collector finds it: by uid, in
        the dependent's namespace (or cluster-scoped); a namespaced dependent's reference to
        an object of another namespace, or to a uid no object has, names none."""
        found = self.controllers.get(ref.uid) if ref is not None else None
        if found is None or found.namespace not in ("", namespace):
            return None
        return found

    def _top(self, found: Controller) -> Controller:
        seen = {found.uid}
        while (owner := self.owner_of(found.namespace, found.owner)) is not None:
            found = owner
            if found.uid in seen:  # an ownership cycle: the API server forbids them
                break
            seen.add(found.uid)
        return found

    def workloads(
        self, listed: Iterable[tuple[str, str]], selected: bool = False
    ) -> tuple[list[Workload], dict[tuple[str, str], int]]:
        """The workloads, sorted by namespace, kind and name; and, per (group, kind) of
        controllers the audit does not list (or could not), how many objects they own: pods
        grouped under them, and controllers reported on their own.

        ``listed``: the (group, kind)s that were read in full; ``selected``: a label
        selector limited what was read (an object whose controller is of a listed kind but
        was not read is then left out: its controller does not match)."""
        read = set(listed)
        self._regroup()
        tops: dict[str, Controller] = {}
        reported: dict[str, Controller] = {}
        unlisted: dict[tuple[str, str], int] = {}
        for found in self.controllers.values():
            top = self._top(found)
            tops[found.uid] = top
            owner = top.owner
            if owner is not None and selected and (owner.group, owner.kind) in read:
                continue  # its controller exists and does not match the selector
            if owner is not None and (owner.group, owner.kind) not in read and found is top:
                unlisted[(owner.group, owner.kind)] = unlisted.get((owner.group, owner.kind), 0) + 1
            reported[top.uid] = top
        pods: dict[str, list[_Group]] = {}
        orphans: dict[tuple[str, str], list[_Group]] = {}
        for (namespace, uid), group in self.groups.items():
            top = tops.get(uid) if self.owner_of(namespace, group.owner) is not None else None
            if top is not None:
                if top.uid in reported:
                    pods.setdefault(top.uid, []).append(group)
                continue
            owner = group.owner
            if owner.kind != "Pod" and selected and (owner.group, owner.kind) in read:
                continue
            if owner.kind != "Pod" and (owner.group, owner.kind) not in read:
                unlisted[(owner.group, owner.kind)] = unlisted.get((owner.group, owner.kind), 0) + group.pods
            orphans.setdefault((namespace, uid), []).append(group)
        absent = self._absent(read)
        out = [
            self._workload(top, pods.get(uid, ()), absent(top.namespace, top.owner))
            for uid, top in reported.items()
        ]
        out.extend(
            self._from_pods(groups, absent(groups[0].namespace, groups[0].owner))
            for groups in orphans.values()
        )
        out.sort(key=lambda w: (w.namespace, w.kind, w.name, w.api_version))
        return out, unlisted

    def _absent(self, read: set[tuple[str, str]]) -> Any:
        """A function of (namespace, owner reference) giving the notes on a reference to an
        object of a kind read in full that names none of that namespace (:meth:`owner_of`):
        another namespace's object, or a uid that no object of that name has."""
        by_name: dict[tuple[str, str, str], str] = {}
        for c in self.controllers.values():
            by_name.setdefault((c.namespace, c.kind, c.name), c.uid)

        def notes(namespace: str, ref: OwnerRef | None) -> tuple[str, ...]:
            if ref is None or ref.kind == "Pod" or (ref.group, ref.kind) not in read:
                return ()
            if self.owner_of(namespace, ref) is not None:
                return ()
            where = f"namespace {namespace}" if namespace else "the cluster scope"
            found = self.controllers.get(ref.uid)
            other = by_name.get((namespace, ref.kind, ref.name))
            if found is not None:
                why = (
                    f"the object with that uid is in namespace {found.namespace}, and owner references "
                    "do not cross namespaces"
                )
            elif other is not None:
                why = f"the {ref.kind} of that name has uid {other}"
            else:
                why = "no such object was listed"
            return (
                f"its controller {ref.kind} {ref.name} (uid {ref.uid}) is not in {where} ({why}): the "
                "garbage collector takes it as absent; its objects are judged on their own",
            )

        return notes

    def _regroup(self) -> None:
        """Pods owned by a pod that an ecosystem's controller owns join that pod's group."""
        for group_key, group in list(self.groups.items()):
            owner = group.owner
            namespace = group.namespace
            if (
                owner.kind != "Pod"
                or owner.api_version != "v1"
                or (namespace, owner.uid) not in self.pod_owners
            ):
                continue
            top = self.pod_owners[(namespace, owner.uid)]
            target = self.groups.get((namespace, top.uid))
            if target is None:
                target = self.groups[(namespace, top.uid)] = _Group(namespace, top)
            target.pods += group.pods
            for key, (count, nodes) in group.placed.items():
                entry = target.placed.setdefault(key, [0, []])
                entry[0] += count
                entry[1].extend(n for n in nodes if n not in entry[1] and len(entry[1]) < MAX_NODE_NAMES)
            for key, count in group.running.items():
                target.running[key] = target.running.get(key, 0) + count
            for container in group.containers:
                target.containers.setdefault(container, None)
            target.error = target.error or group.error
            target.unplaced[0] += group.unplaced[0]
            target.unplaced[1].extend(n for n in group.unplaced[1] if n not in target.unplaced[1])
            del self.groups[group_key]

    @staticmethod
    def _summaries(groups: Sequence[_Group]) -> tuple[int, tuple[Placed, ...], tuple[Running, ...]]:
        placed: dict[tuple[PlatformKey, tuple[str, ...]], list[Any]] = {}
        running: dict[tuple[str, str], int] = {}
        for group in groups:
            for key, (count, nodes) in group.placed.items():
                entry = placed.setdefault(key, [0, []])
                entry[0] += count
                entry[1].extend(n for n in nodes if n not in entry[1])
            for key, count in group.running.items():
                running[key] = running.get(key, 0) + count
        return (
            sum(g.pods for g in groups),
            tuple(
                Placed(platform, images, count, tuple(sorted(nodes)[:MAX_NODE_NAMES]))
                for (platform, images), (count, nodes) in sorted(placed.items())
            ),
            tuple(Running(image, digest, n) for (image, digest), n in sorted(running.items())),
        )

    def _workload(self, top: Controller, groups: Sequence[_Group], notes: tuple[str, ...] = ()) -> Workload:
        count, placed, running = self._summaries(groups)
        containers = tuple(dict.fromkeys(c for t in top.templates for c in t.containers))
        if not top.templates:  # its pods are made from another object: their own containers
            containers = tuple(dict.fromkeys(c for g in groups for c in g.containers))
        return Workload(
            top.kind,
            top.api_version,
            top.namespace,
            top.name,
            top.templates,
            containers,
            count,
            placed,
            running,
            error=top.error or next((g.error for g in groups if g.error), ""),
            notes=notes + _unplaced(groups),
        )

    def _from_pods(self, groups: Sequence[_Group], notes: tuple[str, ...] = ()) -> Workload:
        group = groups[0]
        count, placed, running = self._summaries(groups)
        owner = group.owner
        templates = (group.pending,) if group.pending is not None else ()
        return Workload(
            owner.kind,
            owner.api_version,
            group.namespace,
            owner.name,
            templates,
            tuple(group.containers),
            count,
            placed,
            running,
            from_pods=owner.kind != "Pod",
            error=next((g.error for g in groups if g.error), ""),
            notes=notes + _unplaced(groups),
        )
