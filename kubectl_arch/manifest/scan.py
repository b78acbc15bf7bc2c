"""Find the workloads of a YAML stream: the first phase of ``pin`` (and of ``check`` and
``inspect -f``).

Documents that cannot be workloads (by their ``kind`` line, found without parsing) are passed
over; the others are parsed, Lists (``kind: List`` and every ``*List``, nested ones too, as
kubectl flattens them) are opened, and each pod spec's containers, affinity, nodeSelector,
tolerations, os, nodeName and hostNetwork are read. A document is read on its own: its faults
are findings naming the file, document and object, and never reach another document; nothing
is raised.

:func:`documents` yields each document with its node tree, which the editor needs; the tree is
dropped with the document, so that memory does not grow with the stream. :func:`scan` keeps
only the findings and the workloads (plain data), for the commands that only read.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from .. import affinity
from . import yamlnodes as yn
from . import yamltext
from .workloads import BUILTIN, CONTAINER_FIELDS, LIST_ITEMS, MAP_VALUES, WILDCARDS, Kinds

RELEVANT_KEYS = ("affinity", "nodeSelector", "tolerations", "os", "nodeName", "hostNetwork")
# Characters YAML does not allow in a stream (and kubectl refuses): C0 controls but tab, line
# feed and carriage return, DEL, C1 controls but NEL; and, in a text that is not all ASCII,
# surrogates, U+FFFE and U+FFFF (a class beyond Latin-1 costs half a millisecond to compile:
# only such texts pay it).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")
_FORBIDDEN_WIDE = "[\ud800-\udfff\ufffe\uffff]"
INCOMPLETE = "not a complete workload"
_ALIAS = r"[\s\[{,]\*[^\s,\[\]{}]"  # what may be an alias (*name), or false alarms (Lists only)


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
    inner: tuple[int, ...] = ()  # indexes in the Lists nested in that item, outermost first

    def where(self) -> str:
        if self.file_path:  # an orchestrator's item: name the file it came from
            index = f" doc {self.file_index + 1}" if self.file_index is not None else ""
            return f"{self.file_path}{index}"
        out = f"{self.source} doc {self.document}" if self.document else self.source
        if self.item is not None:
            out += f" item {'.'.join(str(i) for i in (self.item, *self.inner))}"
        return out

    def object(self) -> str:
        if not self.kind:
            return "object"
        return f"{self.kind}/{self.name}" if self.name else self.kind  # a List has no name

    def __str__(self) -> str:
        return f"{self.where()} {self.object()}" if self.kind else self.where()


class Finding(NamedTuple):
    severity: str  # "error" or "warning"
    message: str
    location: Location | None = None
    field: str | None = None
    exit_code: int = 0  # for errors: 1 conflict, 2 input
    skipped: bool = False  # a warning about an object left out (an incomplete workload)
    unchecked: str = ""  # a warning about pods not pinned nor checked: "kind" or "ref" (units.py)

    def __str__(self) -> str:
        if self.location is None:
            return self.message
        return f"{self.location}: {self.message}"


class Container(NamedTuple):
    field: str  # containers, initContainers or ephemeralContainers
    name: str
    image: str
    index: int = 0  # position in its list
    at: tuple[Any, ...] | None = None  # the image's path from the workload's path, when not field[index]


class Workload(NamedTuple):
    location: Location
    field: str  # dotted path of the pod spec, e.g. spec.template.spec
    containers: tuple[Container, ...]
    pod: dict[str, Any]  # plain data of RELEVANT_KEYS
    path: tuple[Any, ...]  # from the document's root node to the pod spec
    object_path: tuple[Any, ...] = ()  # from the document's root node to the object
    # Kinds whose containers and placement live apart (manifest/units.py): the placement
    # mapping's path from ``path``, how many of its last keys are absent, and the keys of
    # ``pod`` that come from the kind's defaults rather than from that mapping.
    placement: tuple[Any, ...] = ()
    create: int = 0
    inherited: frozenset[str] = frozenset()
    present: frozenset[str] = frozenset()  # keys the placement mapping has (an override's)
    own: dict[str, Any] = {}  # noqa: RUF012 - never mutated; the values of the inherited keys in ``present``
    shared: str = ""  # says which pods of their own share this placement (a PipelineRun's tasks)
    nulled: bool = False  # the first key to create is written null (replaced, not added)
    nulls: frozenset[str] = frozenset()  # placement keys written null (replaced, not added)


class Document(NamedTuple):
    """One document (or one List item read on its own) and what was found in it; ``parsed``
    is its node tree, None when it was not parsed."""

    parsed: yn.Parsed | None
    location: Location
    workloads: list[Workload]
    findings: list[Finding]


class Scan:
    """The workloads and findings of a stream. :meth:`documents` reads it again, document by
    document, with node trees (for editing)."""

    def __init__(
        self,
        text: str,
        source: str,
        kinds: Kinds,
        incomplete_ok: bool = False,
        read: bool = True,
    ) -> None:
        self.text = text
        self.source = source
        self.kinds = kinds
        self.incomplete_ok = incomplete_ok
        self.workloads: list[Workload] = []
        self.findings: list[Finding] = []
        if read:
            for document in self.documents():
                self.workloads.extend(document.workloads)
                self.findings.extend(document.findings)

    def documents(self) -> Iterator[Document]:
        return documents(self.text, self.source, self.kinds, self.incomplete_ok)


def scan(text: str, source: str, kinds: Kinds, incomplete_ok: bool = False) -> Scan:
    """Find the workloads of a YAML stream (documents, Lists, or ResourceList items).

    With ``incomplete_ok`` (files found by walking a directory, where Kustomize patches live),
    a workload with no pod template or a container without an image is skipped with a
    warning instead of being an error."""
    return Scan(text, source, kinds, incomplete_ok)


def lazy(text: str, source: str, kinds: Kinds, incomplete_ok: bool = False) -> Scan:
    """A :class:`Scan` not read yet: its documents are read once, when iterated."""
    return Scan(text, source, kinds, incomplete_ok, read=False)


def read_object(obj: Any, kinds: Kinds, source: str) -> Document:
    """The workloads of one object given as plain data (an API server's object, as JSON
    decodes it, with its ``kind`` and ``apiVersion``), read by the same reader as a manifest's
    objects (:func:`.yamlnodes.from_data` gives it the node tree that reader walks): the same
    pod templates, units and placement as ``pin`` and ``check`` find in its manifest. Faults
    are findings, as for a document (``incomplete_ok``: an object without its pod template is
    a warning); ``source`` names the object in them."""
    location = Location(source, 0)
    try:
        root = yn.from_data(obj)
        reader = _Reader(None, kinds, incomplete_ok=True)
        reader.object(root, (), location)
    except (yn.YamlShapeError, RecursionError) as exc:
        message = str(exc) if isinstance(exc, yn.YamlShapeError) else "object nests too deeply"
        return Document(None, location, [], [_input_error(location, message)])
    return Document(None, location, reader.judged(), reader.findings)


def _input_error(location: Location, message: str, field: str | None = None) -> Finding:
    return Finding("error", message, location, field, 2)


class _Incomplete(Exception):
    """A workload lacks what a patch file lacks (its pod template, a container's image)."""


def _scalar(mapping: Any, key: str) -> str:
    found = yn.find(mapping, key) if yn.is_mapping(mapping) else None
    if found is None or not yn.is_scalar(found.value) or yn.is_null(found.value):
        return ""
    return yn.text(found.value)


def _string(mapping: Any, key: str) -> str:
    """A key's value when it is a string (an object's kind or apiVersion), else ""."""
    found = yn.find(mapping, key) if yn.is_mapping(mapping) else None
    return yn.text(found.value) if found is not None and yn.is_string(found.value) else ""


OBJECT_FIELDS = ("apiVersion", "kind", "metadata")


def object_error(node: Any, location: Location) -> Finding | None:
    """The input error of an object whose ``apiVersion`` or ``kind`` is not a string, or whose
    ``metadata`` is not a mapping, or whose ``metadata.name``, ``namespace`` or
    ``generateName`` is not a string (null is absent): kubectl refuses such a document before
    anything else, whatever its kind (``kind is a number, not a string``)."""
    for key, need in (("apiVersion", "a string"), ("kind", "a string"), ("metadata", "a mapping")):
        found = yn.find(node, key)
        if found is None or yn.is_null(found.value):
            continue
        value = found.value
        if yn.is_string(value) if need == "a string" else yn.is_mapping(value):
            continue
        return _input_error(location, f"{key} is {yn.describe(value)}, not {need}", key)
    metadata = yn.find(node, "metadata")
    if metadata is not None and yn.is_mapping(metadata.value):
        for key in ("name", "namespace", "generateName"):
            found = yn.find(metadata.value, key)
            if found is not None and not yn.is_null(found.value) and not yn.is_string(found.value):
                field = f"metadata.{key}"
                return _input_error(location, f"{field} is {yn.describe(found.value)}, not a string", field)
    return None


def _identify(node: Any, location: Location) -> Location:
    metadata = yn.find(node, "metadata")
    meta = metadata.value if metadata else None
    annotations = yn.find(meta, "annotations") if yn.is_mapping(meta) else None
    notes = annotations.value if annotations else None
    path = _scalar(notes, "config.kubernetes.io/path") or _scalar(notes, "internal.config.kubernetes.io/path")
    index = _scalar(notes, "config.kubernetes.io/index") or _scalar(
        notes, "internal.config.kubernetes.io/index"
    )
    return location._replace(
        api_version=_string(node, "apiVersion"),
        kind=_string(node, "kind"),
        name=_scalar(meta, "name"),
        namespace=_scalar(meta, "namespace"),
        file_path=path,
        file_index=int(index) if index.isascii() and index.isdigit() else None,
    )


Fault = tuple[tuple[Any, ...], str]  # (path from the node walked, "is a list, not a mapping")


def _pod_specs(
    node: Any, path: Sequence[str], faults: list[Fault] | None = None
) -> tuple[list[tuple[Any, tuple[Any, ...]]], str | None]:
    """(pod spec node, path from ``node``) for each match of ``path``.

    The second value names a path without wildcards that matched nothing. A null on the way
    is absent, as the API server decodes an optional field set to null (Go's ``encoding/json``:
    a nil map, slice or pointer). A value of another type than the path needs (a mapping
    before a key or ``{*}``, a list before ``[*]``, either before ``*``) is a fault, appended
    to ``faults``; such a path matches nothing there and is not said to be missing.
    """
    current: list[tuple[Any, tuple[Any, ...]]] = [(node, ())]
    faulty = False
    for segment in path:
        following: list[tuple[Any, tuple[Any, ...]]] = []
        for parent, trail in current:
            if yn.is_null(parent):
                continue
            if segment in WILDCARDS:
                if yn.is_mapping(parent) and segment != LIST_ITEMS:
                    for entry in yn.entries(parent):
                        following.append((entry.value, (*trail, yn.text(entry.key))))
                elif yn.is_sequence(parent) and segment != MAP_VALUES:
                    items = yn.deref(parent).value
                    following.extend((v, (*trail, i)) for i, v in enumerate(items))
                else:
                    need = {LIST_ITEMS: "a list", MAP_VALUES: "a mapping"}.get(segment, "a list or a mapping")
                    faulty = _fault(faults, trail, parent, need) or faulty
                continue
            if not yn.is_mapping(parent):
                faulty = _fault(faults, trail, parent, "a mapping") or faulty
                continue
            found = yn.find(parent, segment)
            if found is None or yn.is_null(found.value):
                continue
            following.append((found.value, (*trail, segment)))
        if segment in WILDCARDS:
            # A null item (or mapping value) is not absent: Kubernetes decodes it into a zero
            # value (an unnamed container without image, a task of nothing), which the API
            # server or the controller refuses; an input error.
            for value, trail in following:
                if yn.is_null(value):
                    if faults is not None:
                        faults.append((trail, "is null; a null item is not absent: remove it"))
                    faulty = True
            following = [(v, t) for v, t in following if not yn.is_null(v)]
        current = following
    missing = None if current or faulty or any(s in WILDCARDS for s in path) else ".".join(path)
    return current, missing


def _dropped(node: Any, path: Sequence[str]) -> str | None:
    """The first item of a wildcard of ``path`` that does not lead to the end of it (a Volcano
    task whose template is null or missing), as a dotted path; None if every one does."""
    for at, segment in enumerate(path):
        if segment not in WILDCARDS:
            continue
        for item, trail in _pod_specs(node, path[: at + 1])[0]:
            if not _pod_specs(item, path[at + 1 :])[0]:
                return affinity.field_path((*trail, *path[at + 1 :]))
        return None
    return None


def _fault(faults: list[Fault] | None, trail: tuple[Any, ...], value: Any, need: str) -> bool:
    if faults is not None:
        faults.append((trail, f"is {yn.describe(value)}, not {need}"))
    return True


def _no_api_version(kind: str) -> str:
    """kubectl's "apiVersion not set", with the apiVersion a built-in kind takes."""
    groups = BUILTIN[kind][0] if kind in BUILTIN else frozenset()
    group = "apps" if "apps" in groups else min(groups, default=None)
    if group is None:
        return "apiVersion not set; add the apiVersion of its kind (group/version)"
    return f"apiVersion not set; set it ({f'{group}/v1' if group else 'v1'} for a {kind})"


def _containers(
    pod: Any, location: Location, field: str, incomplete_ok: bool
) -> tuple[list[Container], list[Finding], str]:
    """The containers of a pod spec, the errors found, and why it is incomplete ("" if not)."""
    containers: list[Container] = []
    errors: list[Finding] = []
    incomplete = ""
    for list_field in CONTAINER_FIELDS:
        found = yn.find(pod, list_field)
        if found is None or yn.is_null(found.value):
            continue
        where = f"{field}.{list_field}"
        if not yn.is_sequence(found.value):
            errors.append(_input_error(location, f"{where} is {yn.describe(found.value)}, not a list", where))
            continue
        for i, item in enumerate(yn.deref(found.value).value):
            at = f"{where}[{i}]"
            if not yn.is_mapping(item):
                errors.append(_input_error(location, f"{at} is {yn.describe(item)}, not a mapping", at))
                continue
            name = _scalar(item, "name") or f"#{i}"
            image = yn.find(item, "image")
            if image is None or yn.is_null(image.value):
                incomplete = incomplete or f"container {name!r} has no image"
                if not incomplete_ok:
                    errors.append(_input_error(location, f"container {name!r} has no image", f"{at}.image"))
            elif not yn.is_string(image.value):
                errors.append(
                    _input_error(
                        location,
                        f"container {name!r}: image is {yn.describe(image.value)}, not a string (quote it)",
                        f"{at}.image",
                    )
                )
            elif not yn.text(image.value).strip():
                errors.append(_input_error(location, f"container {name!r} has an empty image", f"{at}.image"))
            else:
                containers.append(Container(list_field, name, yn.text(image.value), i))
    if not containers and not errors and not incomplete:
        incomplete = f"{field} has no containers"
        if not incomplete_ok:
            errors.append(_input_error(location, incomplete, f"{field}.containers"))
    return containers, errors, incomplete


class _Reader:
    """Reads the objects of one parsed document into a :class:`Document`."""

    def __init__(self, parsed: yn.Parsed | None, kinds: Kinds, incomplete_ok: bool) -> None:
        self.parsed = parsed
        self.kinds = kinds
        self.incomplete_ok = incomplete_ok
        self.workloads: list[Workload] = []
        self.findings: list[Finding] = []
        self._faults: set[tuple[Location, str]] = set()

    def judged(self) -> list[Workload]:
        """The workloads read, but those of an object with an input error: an object that
        cannot be read whole is neither judged nor pinned, in part or at all (its error says
        why), so that no pod of it is counted as fitting nor rewritten."""
        faulty = {f.location for f in self.findings if f.severity == "error"}
        return [w for w in self.workloads if w.location not in faulty]

    def said(self, finding: Finding) -> None:
        """Add an input error, unless the same one was added for the object already."""
        key = (finding.location, finding.field or finding.message)
        if key not in self._faults:
            self._faults.add(key)  # type: ignore[arg-type]
            self.findings.append(finding)

    def fault(self, location: Location, prefix: tuple[Any, ...], faults: Sequence[Fault]) -> None:
        """Input errors for the faults of :func:`_pod_specs` (paths from ``prefix``), each
        field said once however many paths of the kind cross it."""
        for trail, what in faults:
            field = affinity.field_path((*prefix, *trail))
            if (location, field) in self._faults:
                continue
            self._faults.add((location, field))
            self.findings.append(_input_error(location, f"{field} {what}", field))

    def object(self, node: Any, base: tuple[Any, ...], location: Location, depth: int = 0) -> None:
        location = _identify(node, location)
        error = object_error(node, location)
        if error is not None:
            self.findings.append(error)
            return
        if location.kind.endswith("List") and location.kind not in self.kinds.declared:
            found = yn.find(node, "items")
            items = found.value if found is not None else None
            if items is not None and yn.is_sequence(items):
                if depth > 100:
                    raise yn.YamlShapeError("Lists nest too deeply")
                for i, item in enumerate(yn.deref(items).value):
                    if location.item is None:
                        inner = location._replace(item=i, kind="", name="", api_version="")
                    else:
                        inner = location._replace(
                            inner=(*location.inner, i), kind="", name="", api_version=""
                        )
                    if not yn.is_mapping(item):
                        self.findings.append(
                            _input_error(inner, f"list item is {yn.describe(item)}, not an object")
                        )
                        continue
                    self.object(item, (*base, "items", i), inner, depth + 1)
                return
            if location.kind == "ResourceList" and items is not None and not yn.is_null(items):
                message = f"ResourceList items is {yn.describe(items)}, not a list"
                self.findings.append(
                    _input_error(location._replace(kind="", api_version=""), message, "items")
                )
                return
        if not location.api_version and (location.kind in BUILTIN or location.kind in self.kinds.declared):
            self.findings.append(_input_error(location, _no_api_version(location.kind)))
            return
        try:
            shape = self.kinds.workload(location.api_version, location.kind)
            pods = shape.pods if shape is not None else ()
            if shape is None or shape.refs or shape.units:
                from . import units

                read = units.read(self, node, base, location, shape)
                if read is None:
                    return
                pods = read
            workloads: list[Workload] = []
            findings: list[Finding] = []
            incomplete = ""
            for path, optional in pods:
                why = self._path(node, base, path, location, workloads, findings, optional)
                incomplete = incomplete or why
        except yn.YamlShapeError as exc:
            self.findings.append(_input_error(location, str(exc)))
            return
        if incomplete and self.incomplete_ok and not findings:
            self.findings.append(
                Finding("warning", f"{INCOMPLETE}: {incomplete}; skipped", location, skipped=True)
            )
            return
        self.workloads.extend(workloads)
        self.findings.extend(findings)

    def _path(
        self,
        node: Any,
        base: tuple[Any, ...],
        path: Sequence[str],
        location: Location,
        workloads: list[Workload],
        findings: list[Finding],
        optional: bool = False,
    ) -> str:
        faults: list[Fault] = []
        specs, missing = _pod_specs(node, path, faults)
        mark = len(self.findings)
        self.fault(location, (), faults)
        findings.extend(self.findings[mark:])
        del self.findings[mark:]
        incomplete = ""
        if not missing and not optional and not faults:
            missing = _dropped(node, path)
        if missing and not optional:
            incomplete = f"no pod spec at {missing}"
            if not self.incomplete_ok:
                findings.append(_input_error(location, f"no pod spec at {missing}", missing))
        for pod, trail in specs:
            field = affinity.field_path(trail)
            if not yn.is_mapping(pod):
                findings.append(
                    _input_error(location, f"{field} is {yn.describe(pod)}, not a mapping", field)
                )
                continue
            containers, errors, why = _containers(pod, location, field, self.incomplete_ok)
            incomplete = incomplete or why
            if errors:
                findings.extend(errors)
                continue
            if why:
                continue
            data: dict[str, Any] = {}
            budget = yn.new_budget()
            for name in RELEVANT_KEYS:
                found = yn.find(pod, name)
                if found is not None:
                    data[name] = yn.to_data(found.value, budget)
            error = placement_error(location, data, field, pod)
            if error is not None:
                findings.append(error)
                continue
            workloads.append(Workload(location, field, tuple(containers), data, (*base, *trail), base))
        return incomplete


def placement_error(location: Location, pod: dict[str, Any], field: str, node: Any = None) -> Finding | None:
    """The input error for a pod's placement (plain data) that pin cannot read
    (:func:`affinity.validate`), with the line pin has always given it:
    ``spec.template.spec.affinity is a string, not a mapping``. ``node``: the mapping the data
    was read from as strings, read again with YAML's types to name the wrong one."""
    try:
        affinity.validate(pod)
    except affinity.AffinityError as exc:
        error = exc
    else:
        return None
    if node is not None:
        try:
            affinity.validate(typed_placement(node))
        except affinity.AffinityError as exc:
            error = exc
    return Finding("error", f"{field}.{error}", location, f"{field}.{error.field}", 2)


def typed_placement(node: Any) -> dict[str, Any]:
    """The placement keys of a pod spec node as data, scalars with their YAML types."""
    data: dict[str, Any] = {}
    budget = yn.new_budget()
    for name in RELEVANT_KEYS:
        found = yn.find(node, name)
        if found is not None:
            data[name] = yn.to_data(found.value, budget, typed=True)
    return data


def _control_character(text: str, span: yamltext.Span, all_ascii: bool = False) -> str | None:
    """A message naming the first character YAML forbids in the span, with line and column
    (``all_ascii``: the text is known to be all ASCII)."""
    bad = _FORBIDDEN.search(text, span.start, span.end)
    if not all_ascii:
        wide = re.compile(_FORBIDDEN_WIDE).search(text, span.start, span.end if bad is None else bad.start())
        bad = bad if wide is None else wide
    if bad is None:
        return None
    at = bad.start()
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    return (
        f"control character U+{ord(bad.group()):04X} at line {line}, column {column} is not allowed "
        "in YAML; remove it"
    )


def _validate(parsed: yn.Parsed) -> None:
    """What kubectl refuses in a document the fast reader could not read: aliases that
    expand beyond reason, recursive aliases, keys that are collections."""
    yn.check_aliasing(parsed.root)
    for node in yn.walk(parsed.root):
        if node.kind == "mapping":
            for key, _ in node.value:
                if not yn.is_scalar(key):
                    raise yn.YamlShapeError("mapping keys must be strings (a complex key: ? ...)")


def _read(
    text: str,
    span: yamltext.Span,
    location: Location,
    kinds: Kinds,
    incomplete_ok: bool,
    item: bool,
) -> Document:
    """Parse one document (or List item) and read its objects; every fault is a finding."""
    full = False
    while True:
        try:
            parsed = yn.compose(text, span.start, span.end, full=full)
            root, base = parsed.root, ()
            if root is None:
                return Document(None, location, [], [])
            if item:
                sequence = yn.deref(root)
                root, base = (
                    (sequence.value[0], (0,))
                    if sequence.kind == "sequence" and sequence.value
                    else (None, ())
                )
            if not yn.is_mapping(root):
                if incomplete_ok and not item and yn.is_sequence(root):  # a JSON patch (Kustomize)
                    message = "not a Kubernetes object but a list (a JSON patch?); skipped"
                    return Document(None, location, [], [Finding("warning", message, location, skipped=True)])
                message = f"document is {yn.describe(root)}, not a Kubernetes object (a mapping)"
                return Document(None, location, [], [_input_error(location, message)])
            if parsed.full:
                with contextlib.suppress(yn.YamlShapeError, yn.NeedFullParse):
                    location = _identify(root, location)  # to name the object in errors
                _validate(parsed)
            reader = _Reader(parsed, kinds, incomplete_ok)
            reader.object(root, base, location)
            return Document(parsed, location, reader.judged(), reader.findings)
        except yn.NeedFullParse:
            if full:  # pragma: no cover - the full reader computes every value
                raise
            full = True  # a block scalar's value is needed: read the document fully
        except yn.YamlSyntaxError as exc:
            message = f"invalid YAML at line {exc.line}, column {exc.column}: {exc.problem}"
            return Document(None, location, [], [_input_error(location, message)])
        except (yn.YamlShapeError, RecursionError) as exc:
            message = str(exc) if isinstance(exc, yn.YamlShapeError) else "document nests too deeply"
            return Document(None, location, [], [_input_error(location, message)])


def unexpected(location: Location | None, exc: BaseException) -> Finding:
    """A fault of this program met while reading or editing one document, as one error."""
    detail = str(exc).splitlines()[0] if str(exc) else ""
    message = f"unexpected {type(exc).__name__}" + (f": {detail}" if detail else "")
    return Finding("error", f"{message}; please report this with the input", location, None, 2)


def documents(text: str, source: str, kinds: Kinds, incomplete_ok: bool = False) -> Iterator[Document]:
    """Each document of a stream that may hold workloads (List items one by one, when the
    layout allows reading them on their own), read in turn."""
    document = 0
    # Line breaks kubectl reads as such (a lone CR, NEL, LS, PS) become LF, in place: the
    # same positions, so edits planned on this text apply to the original.
    text = yamltext.normalise_breaks(text)
    all_ascii = text.isascii()
    for span in yamltext.split_documents(text):
        if not yamltext.has_content(text, span):
            continue
        document += 1
        location = Location(source, document)
        try:
            bad = _control_character(text, span, all_ascii)
            if bad is not None:
                yield Document(None, location, [], [_input_error(location, bad)])
                continue
            if yamltext.starts_json(text, span):  # kubectl get -o json: items read one by one
                found = yamltext.json_items(text, span)
                if found is not None and found[1] is not None:
                    api_version, kind, json_items = found
                    if not kinds.is_candidate(kind) and not _may_hold_pods(
                        text, span, api_version, kind, kinds
                    ):
                        continue
                    if kind.endswith("List") and kind not in kinds.declared:
                        listed = location._replace(api_version=api_version or "", kind=kind)
                        yield from _items(text, json_items, listed, kinds, incomplete_ok)
                        continue
            sniffed = yamltext.sniff_document(text, span)
            probing = False
            if sniffed is not None and not _KIND_NAME.fullmatch(sniffed[1]):
                sniffed = None  # not a kind's name (kind: 5): read, to say so
            if sniffed is not None:
                api_version, kind = sniffed
                if not kinds.is_candidate(kind):
                    if not _may_hold_pods(text, span, api_version, kind, kinds):
                        continue
                    probing = True  # read only to say that it holds pods: its faults are not ours
                if kind.endswith("List") and kind not in kinds.declared:
                    # Items are read one by one, unless an alias may name another item's anchor.
                    alias = re.compile(_ALIAS).search(text, span.start, span.end)
                    items = yamltext.split_items(text, span) if alias is None else None
                    if items is not None:
                        listed = location._replace(api_version=api_version or "", kind=kind)
                        yield from _items(text, items, listed, kinds, incomplete_ok)
                        continue
            result = _read(text, span, location, kinds, incomplete_ok, item=False)
            if probing:
                result = result._replace(findings=_probed(result.findings))
        except Exception as exc:  # a fault of this program: this document's error only
            result = Document(None, location, [], [unexpected(location, exc)])
        yield result


def _items(
    text: str,
    items: Sequence[yamltext.Item] | Sequence[yamltext.JsonItem],
    location: Location,
    kinds: Kinds,
    incomplete_ok: bool,
) -> Iterator[Document]:
    """The items of a List read one by one: block sequence entries (``- ...``, kinds found by
    the text scanner) or the objects of a JSON ``items`` array (kinds found by the json
    module)."""
    for i, item in enumerate(items):
        at = location._replace(item=i, kind="", name="", api_version="")
        entry = isinstance(item, yamltext.Item)
        try:
            if isinstance(item, yamltext.Item):
                sniffed = yamltext.sniff_item(text, item)
            else:
                sniffed = (item.api_version, item.kind) if item.kind is not None else None
            # Passed over only when both apiVersion and kind were read for sure (None: unsure)
            # and name no workload; a kind that is not one is probed for a pod spec to be said.
            probing = (
                sniffed is not None
                and sniffed[0] is not None
                and kinds.workload(*sniffed) is None
                and not sniffed[1].endswith("List")
                and (sniffed[0] or not kinds.is_candidate(sniffed[1]))  # no apiVersion: said so
            )
            if probing and not _may_hold_pods(text, item.span, *sniffed, kinds):
                continue
            result = _read(text, item.span, at, kinds, incomplete_ok, item=entry)
            if probing:
                result = result._replace(findings=_probed(result.findings))
        except Exception as exc:
            result = Document(None, at, [], [unexpected(at, exc)])
        yield result


_CONTAINERS = r"""\bcontainers?["']?\s*:"""  # container(s): (units.probe); compiled on first use
_KIND_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def _probed(findings: list[Finding]) -> list[Finding]:
    """The findings of an object read only to say that it holds pods: its faults are not
    ours, but an object kubectl refuses outright (:func:`object_error`) is said."""
    return [f for f in findings if f.severity != "error" or f.field in OBJECT_FIELDS]


def _may_hold_pods(text: str, span: yamltext.Span, api_version: str | None, kind: str, kinds: Kinds) -> bool:
    """Whether a document of a kind that is not a workload may hold a pod spec (to be said:
    ``manifest/units.py``), judged from its text without parsing it."""
    return (
        re.compile(_CONTAINERS).search(text, span.start, span.end) is not None
        and text.find("image", span.start, span.end) >= 0
        and not kinds.ignored(api_version, kind)
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
    """Whether ``scans`` found no workload, no faulty one, and no object holding pods that is
    not checked (an undeclared kind with a pod template, whose verdict is its own)."""
    scans = list(scans)
    return not any(s.workloads for s in scans) and not any(
        f.severity == "error" or f.unchecked for s in scans for f in s.findings
    )
