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
from typing import TYPE_CHECKING, Any

from .. import affinity
from . import yamlnodes as yn
from .workloads import Shape, group_of

if TYPE_CHECKING:
    from .kinds import Unit
    from .scan import Location, _Reader

KIND = "kind"  # Finding.unchecked: a kind nobody declared holds a pod template
REF = "ref"  # Finding.unchecked: the pods are defined in another object
_MAX_DEPTH = 60


def read(reader: _Reader, node: Any, base: tuple[Any, ...], location: Location, shape: Shape | None) -> bool:
    """Read what :mod:`.scan` does not: returns whether the object is done with (its plain
    pod paths, if any, are left to the caller)."""
    from .scan import Finding

    if shape is None:
        if not reader.kinds.ignored(location.api_version, location.kind):
            patterns = probe(node)
            if patterns:
                reader.findings.append(
                    Finding("warning", undeclared(location, patterns), location, unchecked=KIND)
                )
        return True
    for ref in shape.refs:
        if _present(node, ref):
            reader.findings.append(_referenced(location, ref))
            return True
    for unit in shape.units:
        _unit(reader, node, base, location, unit)
    return not shape.pods


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

    where = ".".join(ref)
    message = f"not pinned nor checked: its pods are made from the object {where} names"
    return Finding("warning", message, location, where, unchecked=REF)


def _present(node: Any, path: Sequence[str]) -> bool:
    from .scan import _pod_specs

    found, _ = _pod_specs(node, path)
    return any(not yn.is_null(value) for value, _ in found)


def _unit(reader: _Reader, root: Any, base: tuple[Any, ...], location: Location, unit: Unit) -> None:
    from .scan import Finding, _pod_specs

    at = tuple(unit.at.split(".")) if unit.at else ()
    for node, trail in _pod_specs(root, at)[0]:
        if not yn.is_mapping(node):
            continue
        if unit.needs and not any(_present(node, tuple(n.split("."))) for n in unit.needs):
            continue
        for ref in unit.refs:
            if _present(node, tuple(ref.split("."))):
                reader.findings.append(_referenced(location, (*at, *ref.split("."))))
                break
        else:
            _pod(reader, root, node, (*base, *trail), base, location, unit)
            for path in unit.unread:
                if _present(node, tuple(path.split("."))):
                    field = affinity.field_path((*at, *path.split(".")))
                    message = (
                        f"{field} is not read: the operator merges it over the placement pinned; "
                        "check that it admits the platforms pinned"
                    )
                    reader.findings.append(Finding("warning", message, location, field))


def _pod(
    reader: _Reader,
    root: Any,
    node: Any,
    path: tuple[Any, ...],
    base: tuple[Any, ...],
    location: Location,
    unit: Unit,
) -> None:
    from .scan import RELEVANT_KEYS, Container, Workload, _input_error, _pod_specs, _scalar

    prefix = path[len(base) :]
    containers: list[Container] = []
    errors = []
    for spec in unit.containers:
        for alternative in spec.split("|"):
            found = [
                (v, t) for v, t in _pod_specs(node, tuple(alternative.split(".")))[0] if not yn.is_null(v)
            ]
            if not found:
                continue
            for value, trail in found:
                where = affinity.field_path((*prefix, *trail))
                if yn.is_mapping(value):
                    image = yn.find(value, "image")
                    if image is None or yn.is_null(image.value):
                        continue  # its image comes from elsewhere (a Flink template's main container)
                    name = _scalar(value, "name") or where
                    value, trail, where = image.value, (*trail, "image"), f"{where}.image"
                else:
                    name = where
                if not yn.is_string(value) or not yn.text(value).strip():
                    what = "an empty string" if yn.is_string(value) else yn.describe(value)
                    errors.append(_input_error(location, f"{where} is {what}, not an image reference", where))
                    continue
                containers.append(Container("containers", name, yn.text(value), len(containers), trail))
            break
    if errors:
        reader.findings.extend(errors)
        return
    if not containers:
        return  # no pod of its own here (a TaskRun whose task is still to be written, ...)
    placement = tuple(unit.placement.split(".")) if unit.placement else ()
    mapping: Any = node
    create = 0
    for depth, key in enumerate(placement):
        found = yn.find(mapping, key) if yn.is_mapping(mapping) else None
        if found is None or yn.is_null(found.value):
            create = len(placement) - depth
            break
        mapping = found.value
        if not yn.is_mapping(mapping):
            field = affinity.field_path((*prefix, *placement[: depth + 1]))
            reader.findings.append(
                _input_error(location, f"{field} is {yn.describe(mapping)}, not a mapping", field)
            )
            return
    data: dict[str, Any] = {}
    inherited: set[str] = set()
    budget = yn.new_budget()
    own = mapping if not create else None
    for name in RELEVANT_KEYS:
        value = yn.find(own, name) if own is not None else None
        if value is not None and _set(value.value, name):
            data[name] = yn.to_data(value.value, budget)
            continue
        for default in unit.defaults:
            source = _pod_specs(root, tuple(default.split(".")))[0]
            holder = source[0][0] if source else None
            found = yn.find(holder, name) if holder is not None and yn.is_mapping(holder) else None
            if found is not None and _set(found.value, name):
                # Typed as written: the value is written out whole where the pod is pinned.
                data[name] = yn.to_data(found.value, budget, typed=yn.RENDER)
                inherited.add(name)
                break
        else:
            if value is not None:
                data[name] = yn.to_data(value.value, budget)
    field = affinity.field_path((*prefix, *placement)) or "object"
    reader.workloads.append(
        Workload(
            location, field, tuple(containers), data, path, base, placement, create, frozenset(inherited)
        )
    )


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
    ``containers`` list holding a mapping with an ``image``."""
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
            stack.extend(
                (e.value, (*trail, yn.text(e.key))) for e in reversed(entries) if yn.is_scalar(e.key)
            )
        elif yn.is_sequence(current):
            stack.extend((item, (*trail, "*")) for item in reversed(yn.deref(current).value))
    return list(found)


def _holds_images(node: Any) -> bool:
    if not yn.is_sequence(node):
        return False
    for item in yn.deref(node).value:
        if yn.is_mapping(item):
            image = yn.find(item, "image")
            if image is not None and yn.is_string(image.value):
                return True
    return False


def relocate(workload: Any, ops: Sequence[tuple[Any, ...]]) -> tuple[tuple[Any, ...], ...]:
    """A plan's operations (paths relative to ``workload.pod``) as paths relative to
    ``workload.path``: under the placement mapping, created when absent; a key the pod has
    from the kind's defaults is written whole into the placement mapping (which then overrides
    the default for this pod only, as the controllers read it)."""
    if not workload.placement and not workload.inherited:
        return tuple(ops)
    touched = {op[1][0] for op in ops} & workload.inherited
    kept = [op for op in ops if op[1][0] not in touched]
    if touched:
        new = affinity.apply(workload.pod, [op for op in ops if op[1][0] in touched])
        kept += [("add", (key,), new[key]) for key in sorted(touched)]
    placement = tuple(workload.placement)
    if not workload.create:
        return tuple((op[0], (*placement, *op[1]), *op[2:]) for op in kept)
    # The placement mapping is absent: every operation adds a key of it; one adds it whole.
    value: Any = dict(affinity.apply({}, [op for op in kept if op[1][0] not in workload.inherited]))
    value.update({op[1][0]: op[2] for op in kept if op[1][0] in touched})
    missing = placement[len(placement) - workload.create :]
    for key in reversed(missing[1:]):
        value = {key: value}
    return (("add", (*placement[: len(placement) - workload.create], missing[0]), value),)


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
    """The findings about objects whose pods were neither pinned nor checked."""
    return [f for f in findings if f.unchecked and f.location is not None]


def gate_fails(findings: Sequence[Any]) -> bool:
    """Whether a gate (``pin --check``, ``check``) fails for objects it could not judge: an
    object of a kind nobody declared holds a pod template (declaring the kind, or declaring
    that it is no workload, settles it). Pods made from another object (a Rollout's
    workloadRef, a TaskRun's taskRef) are listed, not failed: nothing here could pin them."""
    return any(f.unchecked == KIND for f in findings)
