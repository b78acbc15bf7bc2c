"""Find the workloads of a YAML stream: the first phase of ``pin`` (and of ``check`` and
``inspect -f``).

Documents that cannot be workloads (by their ``kind`` line, found without parsing) are passed
over; the others are parsed and each pod spec's containers, affinity, nodeSelector,
tolerations, os, nodeName and hostNetwork are read, with the nodes and positions the splicer
needs to edit them later.
Faults are findings (:class:`Finding`) naming the file, document and object; nothing is raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from .. import affinity
from . import yamlnodes as yn
from . import yamltext
from .workloads import BUILTIN, CONTAINER_FIELDS, Kinds

RELEVANT_KEYS = ("affinity", "nodeSelector", "tolerations", "os", "nodeName", "hostNetwork")
# Read even when a YAML alias: only an edit needs them to be plain (and then says so).
READ_ONLY_ALIASES = ("tolerations", "os", "nodeName", "hostNetwork")


class Location(NamedTuple):
    source: str
    document: int  # 1-based among the stream's non-empty documents
    item: int | None = None  # index in a List's items or a ResourceList's items
    api_version: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""
    # The file an orchestrator (kpt, kustomize) read the object from, per its annotations.
    file_path: str = ""
    file_index: int | None = None

    def where(self) -> str:
        if self.file_path:  # an orchestrator's item: name the file it came from
            index = f" doc {self.file_index + 1}" if self.file_index is not None else ""
            return f"{self.file_path}{index}"
        out = f"{self.source} doc {self.document}" if self.document else self.source
        if self.item is not None:
            out += f" item {self.item}"
        return out

    def object(self) -> str:
        return f"{self.kind}/{self.name}" if self.kind else "object"

    def __str__(self) -> str:
        return f"{self.where()} {self.object()}" if self.kind else self.where()


class Finding(NamedTuple):
    severity: str  # "error" or "warning"
    message: str
    location: Location | None = None
    field: str | None = None
    exit_code: int = 0  # for errors: 1 conflict, 2 input

    def __str__(self) -> str:
        if self.location is None:
            return self.message
        return f"{self.location}: {self.message}"


class Container(NamedTuple):
    field: str  # containers, initContainers or ephemeralContainers
    name: str
    image: str
    index: int = 0  # position in its list


class Workload(NamedTuple):
    location: Location
    field: str  # dotted path of the pod spec, e.g. spec.template.spec
    containers: tuple[Container, ...]
    pod: dict[str, Any]  # plain data of RELEVANT_KEYS
    parsed: yn.Parsed
    node: Any  # the pod spec mapping node
    key: Any  # its key node
    style_root: Any  # the object node (indentation style is read from it)
    path: tuple[Any, ...]  # from parsed.root to the pod spec


class Scan(NamedTuple):
    text: str
    workloads: list[Workload]
    findings: list[Finding]


def _input_error(location: Location, message: str, field: str | None = None) -> Finding:
    return Finding("error", message, location, field, 2)


def _scalar(mapping: Any, key: str) -> str:
    found = yn.find(mapping, key) if yn.is_mapping(mapping) else None
    if found is None or not yn.is_scalar(found[1]) or yn.is_null(found[1]):
        return ""
    return str(found[1].value)


def _identify(node: Any, location: Location) -> Location:
    metadata = yn.find(node, "metadata")
    meta = metadata[1] if metadata else None
    annotations = yn.find(meta, "annotations") if yn.is_mapping(meta) else None
    notes = annotations[1] if annotations else None
    path = _scalar(notes, "config.kubernetes.io/path") or _scalar(notes, "internal.config.kubernetes.io/path")
    index = _scalar(notes, "config.kubernetes.io/index") or _scalar(
        notes, "internal.config.kubernetes.io/index"
    )
    return location._replace(
        api_version=_scalar(node, "apiVersion"),
        kind=_scalar(node, "kind"),
        name=_scalar(meta, "name"),
        namespace=_scalar(meta, "namespace"),
        file_path=path,
        file_index=int(index) if index.isdigit() else None,
    )


def _pod_specs(node: Any, path: Sequence[str]) -> tuple[list[tuple[Any, Any, tuple[Any, ...]]], str | None]:
    """(pod spec node, its key node, path from ``node``) for each match of ``path``.

    The second value names a path without wildcards that matched nothing.
    """
    current: list[tuple[Any, Any, tuple[Any, ...]]] = [(node, None, ())]
    for segment in path:
        following: list[tuple[Any, Any, tuple[Any, ...]]] = []
        for parent, _, trail in current:
            if segment == "*":
                if yn.is_mapping(parent):
                    for k, v in yn.entries(parent):
                        if yn.is_scalar(k) and not yn.is_alias_value(k, v):
                            following.append((v, k, (*trail, str(k.value))))
                elif yn.is_sequence(parent):
                    following.extend((v, None, (*trail, i)) for i, v in enumerate(parent.value))
                continue
            if not yn.is_mapping(parent):
                continue
            found = yn.find(parent, segment)
            if found is None or yn.is_null(found[1]):
                continue
            key, value = found
            if yn.is_alias_value(key, value):
                where = affinity.field_path((*trail, segment))
                raise yn.YamlShapeError(f"{where} is a YAML alias; pin cannot edit it")
            following.append((value, key, (*trail, segment)))
        current = following
    missing = None if current or "*" in path else ".".join(path)
    return current, missing


def _containers(pod: Any, location: Location, field: str) -> tuple[list[Container], list[Finding]]:
    containers: list[Container] = []
    errors: list[Finding] = []
    for list_field in CONTAINER_FIELDS:
        found = yn.find(pod, list_field)
        if found is None or yn.is_null(found[1]):
            continue
        where = f"{field}.{list_field}"
        if not yn.is_sequence(found[1]):
            errors.append(_input_error(location, f"{where} is {yn.describe(found[1])}, not a list", where))
            continue
        for i, item in enumerate(found[1].value):
            at = f"{where}[{i}]"
            if not yn.is_mapping(item):
                errors.append(_input_error(location, f"{at} is {yn.describe(item)}, not a mapping", at))
                continue
            name = _scalar(item, "name") or f"#{i}"
            image = yn.find(item, "image")
            if image is None or yn.is_null(image[1]):
                errors.append(_input_error(location, f"container {name!r} has no image", f"{at}.image"))
            elif not yn.is_string(image[1]):
                errors.append(
                    _input_error(
                        location,
                        f"container {name!r}: image is {yn.describe(image[1])}, not a string (quote it)",
                        f"{at}.image",
                    )
                )
            elif not str(image[1].value).strip():
                errors.append(_input_error(location, f"container {name!r} has an empty image", f"{at}.image"))
            else:
                containers.append(Container(list_field, name, str(image[1].value), i))
    if not containers and not errors:
        errors.append(_input_error(location, f"{field} has no containers", f"{field}.containers"))
    return containers, errors


def _object_workloads(
    parsed: yn.Parsed, node: Any, base: tuple[Any, ...], location: Location, kinds: Kinds, scan: Scan
) -> None:
    location = _identify(node, location)
    if location.kind.endswith("List") and location.kind not in kinds.declared and location.item is None:
        found = yn.find(node, "items")
        if found is not None and yn.is_sequence(found[1]):
            for i, item in enumerate(found[1].value):
                item_location = location._replace(item=i, kind="", name="", api_version="")
                if not yn.is_mapping(item):
                    scan.findings.append(
                        _input_error(item_location, f"list item is {yn.describe(item)}, not an object")
                    )
                    continue
                _object_workloads(parsed, item, (*base, "items", i), item_location, kinds, scan)
            return
    if not location.api_version and (location.kind in BUILTIN or location.kind in kinds.declared):
        scan.findings.append(_input_error(location, _no_api_version(location.kind)))
        return
    try:
        for path in kinds.paths(location.api_version, location.kind):
            _path_workloads(parsed, node, base, path, location, scan)
    except yn.YamlShapeError as exc:
        scan.findings.append(_input_error(location, str(exc)))


def _no_api_version(kind: str) -> str:
    """kubectl's "apiVersion not set", with the apiVersion a built-in kind takes."""
    groups = BUILTIN[kind][0] if kind in BUILTIN else frozenset()
    group = "apps" if "apps" in groups else min(groups, default=None)
    if group is None:
        return "apiVersion not set; add the apiVersion of its kind (group/version)"
    return f"apiVersion not set; set it ({f'{group}/v1' if group else 'v1'} for a {kind})"


def _path_workloads(
    parsed: yn.Parsed, node: Any, base: tuple[Any, ...], path: Sequence[str], location: Location, scan: Scan
) -> None:
    specs, missing = _pod_specs(node, path)
    if missing:
        scan.findings.append(_input_error(location, f"no pod spec at {missing}", missing))
    for pod, key, trail in specs:
        field = affinity.field_path(trail)
        if not yn.is_mapping(pod):
            scan.findings.append(
                _input_error(location, f"{field} is {yn.describe(pod)}, not a mapping", field)
            )
            continue
        containers, errors = _containers(pod, location, field)
        if errors:
            scan.findings.extend(errors)
            continue
        data: dict[str, Any] = {}
        budget = [yn.MAX_NODES]
        for name in RELEVANT_KEYS:
            found = yn.find(pod, name)
            if found is not None:
                if yn.is_alias_value(*found) and name not in READ_ONLY_ALIASES:
                    raise yn.YamlShapeError(f"{field}.{name} is a YAML alias; pin cannot edit it")
                data[name] = yn.to_data(found[1], budget)
        scan.workloads.append(
            Workload(location, field, tuple(containers), data, parsed, pod, key, node, (*base, *trail))
        )


def _parse_object(
    text: str, span: yamltext.Span, location: Location, kinds: Kinds, scan: Scan, item: bool
) -> None:
    marks = (len(scan.workloads), len(scan.findings))
    try:
        try:
            _read_object(text, span, location, kinds, scan, item, full=False)
        except yn.NeedFullParse:
            # A block scalar's value is needed: read this object again with the full parser.
            del scan.workloads[marks[0] :], scan.findings[marks[1] :]
            _read_object(text, span, location, kinds, scan, item, full=True)
    except yn.YamlSyntaxError as exc:
        scan.findings.append(
            _input_error(location, f"invalid YAML at line {exc.line}, column {exc.column}: {exc.problem}")
        )
    except (yn.YamlShapeError, RecursionError) as exc:
        message = str(exc) if isinstance(exc, yn.YamlShapeError) else "document nests too deeply"
        scan.findings.append(_input_error(location, message))


def _read_object(
    text: str, span: yamltext.Span, location: Location, kinds: Kinds, scan: Scan, item: bool, full: bool
) -> None:
    parsed = yn.compose(text, span.start, span.end, full=full)
    root, base = parsed.root, ()
    if root is None:
        return
    if item:
        root, base = (root.value[0], (0,)) if yn.is_sequence(root) and root.value else (None, ())
    if not yn.is_mapping(root):
        scan.findings.append(
            _input_error(location, f"document is {yn.describe(root)}, not a Kubernetes object (a mapping)")
        )
        return
    _object_workloads(parsed, root, base, location, kinds, scan)


def scan(text: str, source: str, kinds: Kinds) -> Scan:
    """Find the workloads of a YAML stream (documents, Lists, or ResourceList items)."""
    result = Scan(text, [], [])
    document = 0
    for span in yamltext.split_documents(text):
        if not yamltext.has_content(text, span):
            continue
        document += 1
        location = Location(source, document)
        sniffed = yamltext.sniff_document(text, span)
        if sniffed is not None:
            api_version, kind = sniffed
            if not kinds.is_candidate(kind):
                continue
            if kind.endswith("List") and kind not in kinds.declared:
                items = yamltext.split_items(text, span)
                if items is not None:
                    _scan_items(
                        text,
                        items,
                        location._replace(api_version=api_version or "", kind=kind),
                        kinds,
                        result,
                    )
                    continue
        _parse_object(text, span, location, kinds, result, item=False)
    return result


def _scan_items(
    text: str, items: Sequence[yamltext.Item], location: Location, kinds: Kinds, result: Scan
) -> None:
    for i, item in enumerate(items):
        sniffed = yamltext.sniff_item(text, item)
        if (
            sniffed is not None
            and not kinds.paths(*sniffed)
            and (sniffed[0] or not kinds.is_candidate(sniffed[1]))
        ):
            continue
        span = yamltext.Span(item.span.start, item.span.end)
        _parse_object(
            text,
            span,
            location._replace(item=i, kind="", name="", api_version=""),
            kinds,
            result,
            item=True,
        )


def no_workloads(names: Sequence[str], verb: str) -> str:
    """The warning of pin, check and inspect when their whole input (``names``, ``-`` for
    stdin) holds no workload, which is not an error (exit 0):
    ``svc.yaml: no workloads found, nothing to pin (...)``."""
    where = ", ".join("<stdin>" if n == "-" else n for n in dict.fromkeys(names)) or "<stdin>"
    return (
        f"{where}: no workloads found, nothing to {verb} "
        "(a workload kind of your own is declared with --pod-template-path)"
    )


def holds_no_workload(scans: Iterable[Scan]) -> bool:
    """Whether ``scans`` found no workload and no faulty one."""
    scans = list(scans)
    return not any(s.workloads for s in scans) and not any(
        f.severity == "error" for s in scans for f in s.findings
    )
