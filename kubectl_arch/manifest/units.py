"""Objects whose pods are not plain pod templates, for :mod:`.scan`.

* pods whose containers and placement live apart (:class:`.kinds.Unit`): each becomes a
  :class:`.scan.Workload` whose ``path`` is the unit, with containers found where the kind
  keeps them (``Container.at``: the image's path from the unit), the placement mapping's path
  (``placement``; ``create``: how many of its last keys are absent, to be created), and as
  ``pod`` the placement the controller gives the pod: the placement mapping's own keys, and
  for the others the kind's defaults (``inherited``);
* objects whose pods are defined in another object (``refs``: a Rollout's
  ``spec.workloadRef``, a TaskRun's ``taskRef``), and objects of kinds nobody declared that hold
  a pod-spec-shaped mapping (a ``containers`` list of mappings with an ``image``): not pinned,
  a warning that says so (``Finding.unchecked``), which ``pin --check`` and ``check`` list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .. import affinity
from . import yamlnodes as yn
from .workloads import Shape, group_of, split_path

if TYPE_CHECKING:
    from .kinds import Unit
    from .scan import Location, _Reader

KIND = "kind"  # Finding.unchecked: a kind nobody declared holds a pod template
REF = "ref"  # Finding.unchecked: the pods are defined in another object
PATCH = "patch"  # Finding.unchecked: placement the controller applies that is not read
_MAX_DEPTH = 60


def read(
    reader: _Reader, node: Any, base: tuple[Any, ...], location: Location, shape: Shape | None
) -> Sequence[tuple[tuple[str, ...], bool]] | None:
    """Read what :mod:`.scan` does not: returns the plain pod paths left to the caller (and
    whether each may be absent), None when the object is done with.

    A path of ``shape.refs`` that is set is said (the pods it names are made from another
    object); the units are still read (an Argo Workflow's own templates go with those of the
    WorkflowTemplate it names), and of the plain pod paths only ``shape.kept`` (a RayJob's
    submitter, which the RayJob makes even for a cluster it selects)."""
    from .scan import Finding

    if shape is None:
        if not reader.kinds.ignored(location.api_version, location.kind):
            patterns = probe(node)
            if patterns:
                reader.findings.append(
                    Finding("warning", undeclared(location, patterns), location, unchecked=KIND)
                )
        return None
    pods = shape.pods
    for ref in shape.refs:
        if _present(reader, node, ref, location):
            reader.findings.append(_referenced(location, ref))
            pods = shape.kept
            break
    if shape.units and not _complete(reader, node, location, shape.units):
        return None
    for unit in shape.units:
        _unit(reader, node, base, location, unit)
    return pods or None


def _complete(reader: _Reader, node: Any, location: Location, units: Sequence[Unit]) -> bool:
    """Whether the paths the kind cannot be valid without (``Unit.required``) are there: an
    input error naming the first one missing or null, or, for a file found by walking a
    directory (a Kustomize patch), a warning that it is skipped."""
    from .scan import INCOMPLETE, Finding, _input_error, _pod_specs

    for unit in units:
        for first, second, why in unit.exclusive:
            if _present(reader, node, split_path(first), location) and _present(
                reader, node, split_path(second), location
            ):
                reader.findings.append(
                    _input_error(location, f"{first} and {second} are both set: {why}", second)
                )
                return False
        for required in unit.required:
            path = split_path(required)
            faults: list[Any] = []
            found, _ = _pod_specs(node, path, faults)
            if faults:
                reader.fault(location, (), faults)
                return False
            if found:
                continue
            parent, _ = _pod_specs(node, path[:-1])
            entry = yn.find(parent[0][0], path[-1]) if parent and yn.is_mapping(parent[0][0]) else None
            what = "null" if entry is not None else "missing"
            if reader.incomplete_ok:
                message = f"{INCOMPLETE}: {required} is {what}; skipped"
                reader.findings.append(Finding("warning", message, location, skipped=True))
            else:
                message = f"{required} is {what}; a {location.kind} cannot be valid without it"
                reader.findings.append(_input_error(location, message, required))
            return False
    return True


def kind_name(location: Location) -> str:
    group = group_of(location.api_version)
    return f"{location.kind}.{group}" if group else location.kind


def undeclared(location: Location, patterns: Sequence[str]) -> str:
    """``kind X.group has a pod template at P; not pinned: declare it ...``: the same line for
    every object of the kind, so that it is said once."""
    name = kind_name(location)
    declare = " ".join(f"--pod-template-path '{name}={p}'" for p in patterns)
    return (
        f"kind {name} has a pod template at {', '.join(patterns)}; not pinned: declare it with {declare} "
        f"(or --pod-template-path '{name}=' if its objects make no pods)"
    )


def _referenced(location: Location, ref: tuple[str, ...]) -> Any:
    from .scan import Finding

    where = affinity.field_path(ref)
    message = f"not pinned nor checked: its pods are made from the object {where} names"
    return Finding("warning", message, location, where, unchecked=REF)


def _present(
    reader: _Reader, node: Any, path: Sequence[str], location: Location, prefix: tuple[Any, ...] = ()
) -> list[tuple[Any, tuple[Any, ...]]]:
    """The values set (not null) at ``path`` from ``node``; faults on the way said."""
    from .scan import _pod_specs

    faults: list[Any] = []
    found, _ = _pod_specs(node, path, faults)
    reader.fault(location, prefix, faults)
    return [(value, trail) for value, trail in found if not yn.is_null(value)]


def _unread(reader: _Reader, node: Any, path: str, location: Location, prefix: tuple[Any, ...]) -> None:
    """A placement source the controller applies to the pod that is not read (a patch, a
    template merged by rules of its own): said, listed as not checked, failing the gates."""
    from .scan import Finding

    for _, trail in _present(reader, node, split_path(path), location, prefix):
        field = affinity.field_path((*prefix, *trail))
        message = (
            f"{field} is not read: the controller applies it to the pod and it may change where the pod "
            "runs; not checked (set the placement in the fields pin reads: affinity, nodeSelector, "
            "tolerations)"
        )
        reader.findings.append(Finding("warning", message, location, field, unchecked=PATCH))


def _unit(reader: _Reader, root: Any, base: tuple[Any, ...], location: Location, unit: Unit) -> None:
    from .scan import _input_error, _pod_specs

    for path in unit.patches:
        _unread(reader, root, path, location, ())
    at = split_path(unit.at) if unit.at else ()
    faults: list[Any] = []
    found = _pod_specs(root, at, faults)[0]
    reader.fault(location, (), faults)
    for node, trail in found:
        if not yn.is_mapping(node):
            if not yn.is_null(node):
                reader.fault(location, (), [(trail, f"is {yn.describe(node)}, not a mapping")])
            continue
        if unit.needs and not any(_present(reader, node, split_path(n), location, trail) for n in unit.needs):
            continue
        types = [t for t in unit.one_of if _present(reader, node, split_path(t), location, trail)]
        if len(types) > 1:
            where = affinity.field_path(trail)
            message = (
                f"{where} has {' and '.join(types)}: a template has one type of {', '.join(unit.one_of)}"
            )
            reader.findings.append(_input_error(location, f"{message}; keep one", where))
            continue
        for ref in unit.refs:
            if _present(reader, node, split_path(ref), location, trail):
                reader.findings.append(_referenced(location, (*trail, *split_path(ref))))
                break
        else:
            _pod(reader, root, node, (*base, *trail), base, location, unit)
            for path in unit.unread:
                _unread(reader, node, path, location, trail)


# A pod template's main container, whose image the kind's own image field gives.
_MAIN_CONTAINERS = frozenset({"flink-main-container"})


def _no_image(
    reader: _Reader,
    location: Location,
    unit: Unit,
    prefix: tuple[Any, ...],
    containers: bool,
    imageless: Sequence[tuple[str, str]],
    defaulted: bool,
    has_image: bool,
) -> list[Any]:
    """The errors of a pod with a container that has no image, as for a Deployment's
    (``container 'a' has no image``): a container takes no image from elsewhere but a Tekton
    step from its task's ``stepTemplate`` and a Flink template's main container from
    ``spec.image``. A pod whose kind gives its image in a field of its own (a
    SparkApplication's ``spec.image`` or its role's, a FlinkDeployment's ``spec.image``) and
    has none: ``no image: set spec.driver.image or spec.image``. A kind declared with
    ``containers:`` paths none of which is in the object: ``no containers at ...``, as a
    declared pod template path that is missing. For a file found by walking a directory (a
    Kustomize patch), a warning that it is skipped."""
    from .scan import INCOMPLETE, Finding, _input_error

    scalar = [a for spec in unit.containers for a in spec.split("|") if split_path(a)[-1:] == ("image",)]
    problems: list[tuple[str, str]] = []
    for name, where in imageless:
        if defaulted or (has_image and name in _MAIN_CONTAINERS):
            continue
        problems.append((f"container {name!r} has no image", where))
    if not containers and not problems and scalar:
        paths = [affinity.field_path((*prefix, *split_path(a))) for a in scalar]
        problems.append((f"no image: set {' or '.join(paths)}", paths[0]))
    if not containers and not imageless and not problems and _declared(reader, location, unit):
        declared = [a for spec in unit.containers for a in spec.split("|")]
        paths = [affinity.field_path((*prefix, *split_path(a))) for a in declared]
        problems.append((f"no containers at {', '.join(paths)}", paths[0]))
    if not problems:
        return []
    if reader.incomplete_ok:
        message = f"{INCOMPLETE}: {problems[0][0]}; skipped"
        return [Finding("warning", message, location, skipped=True)]
    return [_input_error(location, message, where) for message, where in problems]


def _declared(reader: _Reader, location: Location, unit: Unit) -> bool:
    """Whether ``unit`` comes from a user's declaration (``--pod-template-path``)."""
    return any(unit in d.units for d in reader.kinds.declared.get(location.kind, ()))


class _Layer(NamedTuple):
    """One place the pod's placement comes from: a mapping (None: absent), its field, and
    how it goes under the layers above it (:func:`_merge`); the first layer is the pod's own,
    written to."""

    mapping: Any
    field: str
    merge: str = "keys"


def _images(
    reader: _Reader,
    node: Any,
    specs: Sequence[str],
    unit: tuple[Any, ...],
    prefix: tuple[Any, ...],
    location: Location,
    label: str = "",
    replaced: Sequence[str] = (),
    kind: Unit | None = None,
) -> tuple[list[Any], bool]:
    """The containers at ``specs`` from ``node`` (``Container.at``: from the unit, ``prefix``
    being ``node``'s path from the unit, ``unit`` the unit's from the object), and whether any
    was faulty (said). ``label`` names the part the containers belong to (a PipelineRun's
    task): ``task/step``. ``replaced``: paths from the unit of containers whose image the
    controller replaces (not read). A container without an image is refused as
    :func:`_no_image` says for the ``kind`` of unit."""
    from .scan import Container, _input_error, _pod_specs, _scalar

    containers: list[Any] = []
    faulty = False
    imageless: list[tuple[str, str]] = []  # containers without an image: (name, field)
    defaulted = own_image = False
    for spec in specs:
        for alternative in spec.split("|"):
            faults: list[Any] = []
            found = _pod_specs(node, split_path(alternative), faults)[0]
            found = [(v, t) for v, t in found if not yn.is_null(v)]
            if faults:
                reader.fault(location, (*unit, *prefix), faults)
                faulty = True
            if not found:
                continue
            for value, trail in found:
                trail = (*prefix, *trail)
                where = path = affinity.field_path((*unit, *trail))
                if replaced and affinity.field_path(trail) in replaced:
                    continue  # the controller's own container, its image replaced
                if yn.is_mapping(value) and trail[-1:] != ("image",):  # a container, not an image
                    image = yn.find(value, "image")
                    name = _scalar(value, "name") or where
                    if image is None or yn.is_null(image.value):
                        if not alternative.endswith("Template"):  # a step template is no container
                            imageless.append((name, f"{where}.image"))
                        continue
                    if alternative.endswith("Template"):
                        defaulted = True  # the steps without an image take it (Tekton's stepTemplate)
                    value, trail, where = image.value, (*trail, "image"), f"{where}.image"
                else:
                    name, own_image = where, True
                if not yn.is_string(value) or not yn.text(value).strip():
                    what = "an empty string" if yn.is_string(value) else yn.describe(value)
                    reader.said(_input_error(location, f"{where} is {what}, not an image reference", where))
                    faulty = True
                    continue
                if label and name != path:  # a path names its part already
                    name = f"{label}/{name}"
                containers.append(Container("containers", name, yn.text(value), len(containers), trail))
            break
    if kind is not None and not faulty:  # an image of the wrong type is said already
        problems = _no_image(
            reader, location, kind, (*unit, *prefix), bool(containers), imageless, defaulted, own_image
        )
        for problem in problems:
            reader.said(problem)
        faulty = bool(problems)
    return containers, faulty


def _parts(
    reader: _Reader, node: Any, prefix: tuple[Any, ...], location: Location, unit: Unit
) -> tuple[dict[str, list[Any]], set[str], bool]:
    """The containers of each part of the unit that is a pod of its own (a PipelineRun's
    task, by its name), the names of the parts made from another object (said), and whether
    any was faulty (said)."""
    from .scan import _pod_specs, _scalar

    parts: dict[str, list[Any]] = {}
    referenced: set[str] = set()
    faulty = False
    for spec in unit.parts:
        faults: list[Any] = []
        found = _pod_specs(node, split_path(spec), faults)[0]
        for value, trail in found:
            if not yn.is_mapping(value):
                what = "null, not a mapping (remove the item)" if yn.is_null(value) else None
                faults.append((trail, f"is {what or yn.describe(value) + ', not a mapping'}"))
        if faults:
            reader.fault(location, prefix, faults)
            faulty = True
        for value, trail in found:
            if not yn.is_mapping(value):
                continue
            name = _scalar(value, "name")
            at = (*prefix, *trail)
            ref = next((r for r in unit.refs if _present(reader, value, split_path(r), location, at)), None)
            if ref is not None:
                reader.findings.append(_referenced(location, (*at, *split_path(ref))))
                referenced.add(name)
                continue
            containers, bad = _images(
                reader, value, unit.containers, prefix, trail, location, name or str(trail[-1]), kind=unit
            )
            faulty = faulty or bad
            parts.setdefault(name, []).extend(containers)
    return parts, referenced, faulty


def _pod(
    reader: _Reader,
    root: Any,
    node: Any,
    path: tuple[Any, ...],
    base: tuple[Any, ...],
    location: Location,
    unit: Unit,
) -> None:
    from .scan import Workload, _pod_specs

    prefix = path[len(base) :]
    parts: dict[str, list[Any]] = {}
    if unit.parts:
        parts, _, faulty = _parts(reader, node, prefix, location, unit)
        containers = [c for group in parts.values() for c in group]
    else:
        containers, faulty = _images(
            reader, node, unit.containers, prefix, (), location, "", unit.replaced, kind=unit
        )
    if faulty:
        return
    if not containers:
        return  # no pod of its own here (a TaskRun whose task is still to be written, ...)
    placement = split_path(unit.placement) if unit.placement else ()
    mapping: Any = node
    create = 0
    nulled = False
    for depth, key in enumerate(placement):
        found_key = yn.find(mapping, key) if yn.is_mapping(mapping) else None
        if found_key is None or yn.is_null(found_key.value):
            create = len(placement) - depth
            nulled = found_key is not None  # written null: replaced, as absent (the null rule)
            break
        mapping = found_key.value
        if not yn.is_mapping(mapping):
            reader.fault(
                location, prefix, [(placement[: depth + 1], f"is {yn.describe(mapping)}, not a mapping")]
            )
            return
    defaults: list[_Layer] = []
    for default in (*unit.merged, *unit.defaults):
        faults: list[Any] = []
        source = _pod_specs(root, split_path(default), faults)[0]
        reader.fault(location, (), faults)
        if source and not yn.is_mapping(source[0][0]):
            reader.fault(location, (), [(source[0][1], f"is {yn.describe(source[0][0])}, not a mapping")])
            return
        mode = "deep" if default in unit.merged else "keys"
        defaults.append(_Layer(source[0][0] if source else None, default, mode))
    own = _Layer(mapping if not create else None, affinity.field_path((*prefix, *placement)) or "object")
    layers = [own, *defaults]
    if not all(_layer_valid(reader, location, layer) for layer in layers):
        return
    merged = _merge(layers)
    if not _valid(reader, location, merged, own.field):
        return
    pods: list[Any] = []
    owned: set[str] = set()
    for override in unit.overrides:
        _overrides(reader, node, path, base, location, unit, override, tuple(containers), layers, parts, pods)
        owned.update(name for name, _ in pods)
    shared = ""
    if unit.parts:  # the tasks without a pod template of their own share the unit's
        sharing = [name for name, group in parts.items() if name not in owned and group]
        containers = [c for name in sharing for c in parts[name]]
        if len(sharing) > 1:
            shared = (
                f"{unit.parts_are} {', '.join(sharing)} are pods of their own that share the placement at "
                f"{own.field}, so one pin cannot place them apart: give each its own {unit.overrides[0]}"
            )
    data, inherited, present = merged
    if containers:
        reader.workloads.append(
            Workload(
                location,
                own.field,
                tuple(containers),
                data,
                path,
                base,
                placement,
                create,
                frozenset(inherited),
                frozenset(present),
                _own(own.mapping, inherited & present),
                shared=shared,
                nulled=nulled,
                nulls=_nulls(own.mapping),
            )
        )
    reader.workloads.extend(workload for _, workload in pods)


def _overrides(
    reader: _Reader,
    node: Any,
    path: tuple[Any, ...],
    base: tuple[Any, ...],
    location: Location,
    unit: Unit,
    override: str,
    containers: tuple[Any, ...],
    under: list[_Layer],
    parts: dict[str, list[Any]],
    out: list[tuple[str, Any]],
) -> None:
    """The pods whose placement a mapping of their own puts over the unit's (a PipelineRun's
    ``taskRunSpecs[].podTemplate``, a FlinkDeployment's ``taskManager.podTemplate.spec``):
    each such mapping that sets a placement key is a workload of its own, pinned there,
    appended to ``out`` with the name of the part it belongs to. With ``unit.match``, the
    mapping's entry names its part (``pipelineTaskName``): the pod has that part's containers
    only, and an entry naming no part read (a task made from another object) makes none."""
    from .scan import RELEVANT_KEYS, Workload, _pod_specs, _scalar

    prefix = path[len(base) :]
    faults: list[Any] = []
    found = _pod_specs(node, split_path(override), faults)[0]
    reader.fault(location, prefix, faults)
    named: dict[str, str] = {}  # part -> the field of the entry naming it first
    for mapping, trail in found:
        if yn.is_null(mapping):
            continue
        if not yn.is_mapping(mapping):
            reader.fault(location, prefix, [(trail, f"is {yn.describe(mapping)}, not a mapping")])
            continue
        if unit.match and not _one_entry(
            reader, location, _at(node, trail[:-1]), (*prefix, *trail[:-1]), unit.match, named
        ):
            continue
        if not any(_find(mapping, name) is not None for name in RELEVANT_KEYS):
            continue  # the pod's placement is the unit's, pinned there
        part = ""
        if unit.match:
            part = _scalar(_at(node, trail[:-1]), unit.match)
            if part not in parts or not parts[part] or any(name == part for name, _ in out):
                continue  # a task made from another object, or none: no pod read here
            containers = tuple(parts[part])
        own = _Layer(mapping, affinity.field_path((*prefix, *trail)))
        if not _layer_valid(reader, location, own):
            continue
        merged = _merge([own, under[0]._replace(merge=unit.merge), *under[1:]])
        if not _valid(reader, location, merged, own.field):
            continue
        data, inherited, present = merged
        out.append(
            (
                part,
                Workload(
                    location,
                    own.field,
                    containers,
                    data,
                    path,
                    base,
                    trail,
                    0,
                    frozenset(inherited),
                    frozenset(present),
                    _own(mapping, inherited & present),
                    nulls=_nulls(mapping),
                ),
            )
        )


def _nulls(mapping: Any) -> frozenset[str]:
    """The placement keys a mapping writes null: absent as read (the null rule), but there
    to be replaced, never added, when pinned."""
    if mapping is None:
        return frozenset()
    from .scan import RELEVANT_KEYS

    return frozenset(name for name in RELEVANT_KEYS if (e := yn.find(mapping, name)) and yn.is_null(e.value))


def _own(mapping: Any, names: set[str]) -> dict[str, Any]:
    """The values a placement mapping has of ``names``, typed as written (to be edited in
    place where the merged value only adds to them: :func:`relocate`)."""
    budget = yn.new_budget()
    out = {}
    for name in sorted(names):
        found = _find(mapping, name)
        if found is not None:
            out[name] = yn.to_data(found.value, budget, typed=yn.RENDER)
    return out


def _one_entry(
    reader: _Reader, location: Location, entry: Any, at: tuple[Any, ...], match: str, named: dict[str, str]
) -> bool:
    """Whether the entry at ``at`` names its part (``match``: a PipelineRun's
    ``taskRunSpecs[].pipelineTaskName``) as a string no entry before it names; otherwise an
    input error, and the object is not judged. Tekton merges every entry naming a task, the
    last one's keys winning (``PipelineRun.GetTaskRunSpec``): two entries for one task leave
    which placement the pod gets to their order, and a pin written into one of them may be
    undone by the other."""
    from .scan import _input_error

    found = yn.find(entry, match) if yn.is_mapping(entry) else None
    field = affinity.field_path((*at, match))
    if found is None or yn.is_null(found.value):
        return True
    if not yn.is_string(found.value):
        reader.said(_input_error(location, f"{field} is {yn.describe(found.value)}, not a string", field))
        return False
    part = yn.text(found.value)
    if part in named:
        message = f"{field} names {part!r} as {named[part]} does: keep one entry per task"
        reader.said(_input_error(location, message, field))
        return False
    named[part] = field
    return True


def _at(node: Any, trail: Sequence[Any]) -> Any:
    """The node at ``trail`` (keys and list indexes, as found) from ``node``."""
    for step in trail:
        node = yn.deref(node).value[step] if isinstance(step, int) else yn.find(node, step).value
    return node


def _find(mapping: Any, name: str) -> Any:
    found = yn.find(mapping, name) if mapping is not None else None
    return None if found is None or yn.is_null(found.value) else found


def _merge(layers: Sequence[_Layer]) -> tuple[dict[str, Any], set[str], set[str]]:
    """The placement a pod gets from ``layers`` (its own mapping first, then each layer it
    goes over, in order), the keys not wholly its own (``inherited``: written whole where it
    is pinned), and the keys its own mapping has (``present``).

    A ``keys`` layer gives a key only when the layers above leave it unset (null, an empty
    nodeSelector or tolerations list: :func:`_set`), as Argo Workflows' template -> workflow
    fallback (``addSchedulingConstraints``: ``len(...) > 0``) takes it; a ``nonnull`` layer
    only when they leave it null or absent, as Tekton's ``MergePodTemplateWithDefault``
    (``== nil``: an empty nodeSelector of a task's pod template stands). A ``deep`` layer
    goes under the layers above recursively, mapping by mapping, the upper value winning and
    lists replaced whole: the Flink operator's merge of a role's pod template over ``spec.podTemplate``
    (``FlinkUtils.mergePodTemplates``, arrays not merged by name) and Argo Workflows'
    strategic merge of ``spec.templateDefaults`` under each template
    (``mergedTemplateDefaultsInto``: a nodeSelector gains the defaults' labels)."""
    from .scan import RELEVANT_KEYS

    data: dict[str, Any] = {}
    inherited: set[str] = set()
    present: set[str] = set()
    budget = yn.new_budget()
    own = layers[0].mapping
    for name in RELEVANT_KEYS:
        mine = _find(own, name)
        if mine is not None:
            present.add(name)
        # Typed as written: a value taken from below is written out whole where it is pinned
        # (the pod's own value is converted so only when it is merged with one from below).
        value: Any = None
        took = False
        for layer in layers[1:]:
            found = _find(layer.mapping, name)
            if found is None:
                continue
            if not took and mine is not None:
                if layer.merge == "nonnull" or (layer.merge == "keys" and _set(mine.value, name)):
                    break  # the pod's own value stands (the deep layers come first)
                value = yn.to_data(mine.value, budget, typed=yn.RENDER)
            if layer.merge == "nonnull":
                if value is None:
                    value, took = yn.to_data(found.value, budget, typed=yn.RENDER), True
            elif layer.merge == "deep":
                if value is None or (isinstance(value, dict) and name in ("affinity", "nodeSelector")):
                    lower = yn.to_data(found.value, budget, typed=yn.RENDER)
                    value, took = (lower if value is None else _deep(lower, value)), True
            elif not _set_data(value, name) and _set(found.value, name):
                value, took = yn.to_data(found.value, budget, typed=yn.RENDER), True
        if took:
            data[name] = value
            inherited.add(name)
        elif mine is not None:
            data[name] = yn.to_data(mine.value, budget)
    return data, inherited, present


def _set_data(value: Any, name: str) -> bool:
    """:func:`_set` for plain data."""
    if value is None:
        return False
    if name != "affinity" and isinstance(value, dict | list):
        return bool(value)
    return True


def _deep(lower: Any, upper: Any) -> Any:
    if isinstance(lower, dict) and isinstance(upper, dict):
        out = dict(lower)
        for key, value in upper.items():
            out[key] = _deep(lower[key], value) if key in lower else value
        return out
    return upper


def _valid(
    reader: _Reader, location: Location, merged: tuple[dict[str, Any], set[str], set[str]], field: str
) -> bool:
    """Whether the pod's placement has the shape pin reads; else the input error pin gives
    (``affinity.validate``), the same for ``pin``, ``check`` and the KRM function."""
    from .scan import placement_error

    error = placement_error(location, merged[0], field)
    if error is not None:
        reader.findings.append(error)
    return error is None


def _layer_valid(reader: _Reader, location: Location, layer: _Layer) -> bool:
    """Whether one source of a pod's placement has the shape pin reads, checked on its own so
    that its error names it (``spec.nodeSelector``, ``spec.templateDefaults.affinity``), not
    the pod it is merged into; each source's error said once however many pods it is under."""
    from .scan import placement_error, typed_placement

    if layer.mapping is None:
        return True
    error = placement_error(location, typed_placement(layer.mapping), layer.field)
    if error is None:
        return True
    reader.said(error)
    return False


def _set(node: Any, name: str) -> bool:
    """Whether a placement key counts as set: the controllers take an empty nodeSelector or
    tolerations list (and a null anything) as unset (Argo Workflows: ``len(...) > 0``), and
    any affinity, even ``{}``, as set (a non-nil pointer)."""
    if yn.is_null(node):
        return False
    if name != "affinity" and (yn.is_mapping(node) or yn.is_sequence(node)):
        return bool(yn.deref(node).value)
    return True


def probe(node: Any) -> list[str]:
    """The paths (``*`` for list items) of the pod-spec-shaped mappings of an object: a
    ``containers`` list holding a mapping with an ``image``; and, as the declaration of
    containers and placement apart (``containers:P.container;placement:P``), a mapping whose
    ``container`` is a mapping with an ``image`` string (a pod template of one container, as
    Argo's kinds keep it). Not an ``image`` string alone: the operators' own kinds that hold
    one (Prometheus' ``spec.image``) say no more of the pod than the image."""
    found: dict[str, None] = {}
    stack: list[tuple[Any, tuple[str, ...]]] = [(node, ())]
    while stack:
        current, trail = stack.pop()
        if len(trail) > _MAX_DEPTH:
            continue
        if yn.is_mapping(current):
            entries = list(yn.entries(current))
            if any(yn.text(e.key) == "containers" and _holds_images(e.value) for e in entries):
                if trail:  # a pod spec at the root is no template
                    found[".".join(trail)] = None
                continue
            if trail and any(yn.text(e.key) == "container" and _has_image(e.value) for e in entries):
                at = ".".join(trail)
                found[f"containers:{at}.container;placement:{at}"] = None
                continue
            stack.extend(
                (e.value, (*trail, yn.text(e.key))) for e in reversed(entries) if yn.is_scalar(e.key)
            )
        elif yn.is_sequence(current):
            stack.extend((item, (*trail, "*")) for item in reversed(yn.deref(current).value))
    return list(found)


def _holds_images(node: Any) -> bool:
    return yn.is_sequence(node) and any(_has_image(item) for item in yn.deref(node).value)


def _has_image(node: Any) -> bool:
    if not yn.is_mapping(node):
        return False
    image = yn.find(node, "image")
    return image is not None and yn.is_string(image.value)


def relocate(workload: Any, ops: Sequence[tuple[Any, ...]]) -> tuple[tuple[Any, ...], ...]:
    """A plan's operations (paths relative to ``workload.pod``) as paths relative to
    ``workload.path``: under the placement mapping, created when absent; a key the pod has
    from the kind's defaults is written whole into the placement mapping (which then overrides
    the default for this pod only, as the controllers read it)."""
    if not workload.placement and not workload.inherited and not workload.nulls:
        return tuple(ops)
    touched = {op[1][0] for op in ops} & workload.inherited
    kept = [op for op in ops if op[1][0] not in touched]
    if touched:
        new = affinity.apply(workload.pod, [op for op in ops if op[1][0] in touched])
        for key in sorted(touched):
            if key in workload.own:  # the mapping's own value, edited where it differs
                kept += _difference((key,), workload.own[key], new[key])
            else:
                kept.append(
                    ("replace" if key in workload.present | workload.nulls else "add", (key,), new[key])
                )
    if workload.nulls:  # a key written null is there: replaced, not added
        kept = [
            ("replace", *op[1:])
            if op[0] == "add" and op[1][:1] == op[1] and op[1][0] in workload.nulls
            else op
            for op in kept
        ]
    placement = tuple(workload.placement)
    if not workload.create:
        return tuple((op[0], (*placement, *op[1]), *op[2:]) for op in kept)
    # The placement mapping is absent: every operation adds a key of it; one adds it whole.
    value: Any = dict(affinity.apply({}, [op for op in kept if op[1][0] not in workload.inherited]))
    value.update({op[1][0]: op[2] for op in kept if op[1][0] in touched})
    missing = placement[len(placement) - workload.create :]
    for key in reversed(missing[1:]):
        value = {key: value}
    verb = "replace" if workload.nulled else "add"  # a key written null is there, as null
    return ((verb, (*placement[: len(placement) - workload.create], missing[0]), value),)


def _difference(path: tuple[Any, ...], old: Any, new: Any) -> list[tuple[Any, ...]]:
    """Operations turning ``old`` into ``new``, touching only what differs: keys added to a
    mapping, items appended to a list that keeps its own, anything else replaced whole. Every
    line of the old value that stays is then kept as written (its comments, its flow style)."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict) and old and set(old) <= set(new):
        ops: list[tuple[Any, ...]] = []
        for key, value in new.items():
            if key in old:
                ops += _difference((*path, key), old[key], value)
            else:
                ops.append(("add", (*path, key), value))
        return ops
    if isinstance(old, list) and isinstance(new, list) and old and new[: len(old)] == old:
        return [("add", (*path, "-"), item) for item in new[len(old) :]]
    return [("replace", path, new)]


def said_once(findings: Sequence[Any]) -> list[Any]:
    """The findings as they are printed: the warning about a kind nobody declared once per
    kind, without naming each object (:func:`not_checked` lists them)."""
    out = []
    seen: set[str] = set()
    for finding in findings:
        if finding.unchecked == KIND:
            if finding.message in seen:
                continue
            seen.add(finding.message)
            finding = finding._replace(location=None)
        out.append(finding)
    return out


def not_checked(findings: Sequence[Any]) -> list[Any]:
    """The findings about objects whose pods were neither pinned nor checked, the first
    for each object."""
    found: dict[Any, Any] = {}
    for f in findings:
        if f.unchecked and f.location is not None:
            found.setdefault(f.location, f)
    return list(found.values())


def gate_fails(findings: Sequence[Any]) -> bool:
    """Whether a gate (``pin --check``, ``check``) fails for objects it could not judge: an
    object of a kind nobody declared holds a pod template (declaring the kind, or declaring
    that it is no workload, settles it), or placement the controller applies is not read (an
    Argo Workflows ``podSpecPatch``: a patch may move the pod anywhere). Pods made from
    another object (a Rollout's workloadRef, a TaskRun's taskRef) are listed, not failed:
    nothing here could pin them."""
    return any(f.unchecked in (KIND, PATCH) for f in findings)
