"""The affinity transform: pure functions from a pod spec and allowed platforms to a patch.

Input is plain data (``dict``/``list``/``str``/``None``) holding at least the pod spec's
``affinity`` and ``nodeSelector``; output is a :class:`Plan`: a list of patch operations
relative to the pod spec, warnings, and a conflict message when no node could run the pod.
No I/O, no YAML types.

Scheduling semantics this relies on (kube-scheduler's NodeAffinity plugin):

* ``nodeSelector`` entries and ``requiredDuringSchedulingIgnoredDuringExecution`` are ANDed;
* ``nodeSelectorTerms`` are ORed, the expressions inside one term are ANDed;
* a term with neither ``matchExpressions`` nor ``matchFields`` matches no node, and so does a
  required node selector with no terms (``nodeSelectorTerms: []``, null or missing).

So the platform requirement goes into every term (a new term would loosen the pod), a term
that cannot match any allowed platform is dropped, and only when nothing is left is it a
conflict. A key already restricted to exactly the right values (by the term or by the
``nodeSelector``) is left alone, which makes the transform idempotent and minimal.

Windows platforms may also be limited to host builds (``builds``: the values of
``node.kubernetes.io/windows-build`` the images run on, a :class:`~.platforms.HostBuilds`).
That requirement belongs to the Windows part only (Linux nodes have no such label), so such
platforms get terms of their own, with ``node.kubernetes.io/windows-build In [...]`` (or, for
"this build or later", ``NotIn [...]`` and ``Exists``) beside the os and arch requirements; a
build requirement the term or ``nodeSelector`` already narrows to admitted builds is left
alone, and builds the pod names itself are judged by the same rule (a nodeSelector naming a
build newer than any known is admitted when the images run on every later build).

Patch paths are tuples of mapping keys and sequence indices relative to the pod spec, and
always refer to the *original* document: several operations never depend on each other's
effects. ``("add", path, value)`` adds a mapping key, or appends to a sequence when the last
element is ``"-"``; ``("remove", path)`` removes a sequence item; ``("replace", path, value)``
replaces an existing node.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .platforms import HostBuilds
from .shapes import wrong

if TYPE_CHECKING:  # parsed where terms exist: a pod without node affinity never loads it
    from .nodeselector import Requirement as _Expr

OS_KEY = "kubernetes.io/os"
ARCH_KEY = "kubernetes.io/arch"
BETA_OS_KEY = "beta.kubernetes.io/os"
BETA_ARCH_KEY = "beta.kubernetes.io/arch"
WINDOWS_BUILD_KEY = "node.kubernetes.io/windows-build"
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
TERMS_PATH: tuple[str, ...] = ("affinity", "nodeAffinity", REQUIRED, "nodeSelectorTerms")

# (GA key, beta key) per axis; axis 0 is the OS, axis 1 the architecture.
AXES = ((OS_KEY, BETA_OS_KEY), (ARCH_KEY, BETA_ARCH_KEY))

NodePlatform = tuple[str, str]
Path = tuple[Any, ...]
Op = tuple[Any, ...]
# (oses, architectures, Windows builds or None): the platforms one term admits.
Rect = tuple[frozenset[str], frozenset[str], HostBuilds | None]


class AffinityError(ValueError):
    """The pod spec's affinity or nodeSelector is malformed; ``field`` says where."""

    def __init__(self, field: str, message: str) -> None:
        from .shapes import joined

        super().__init__(joined(field, message))
        self.field = field


class Plan(NamedTuple):
    ops: tuple[Op, ...]
    warnings: tuple[str, ...]
    conflict: str | None
    # The node platforms the pod can land on once the plan is applied.
    admitted: frozenset[NodePlatform]
    # Where the conflict lies, relative to the pod spec ("nodeSelector" or "affinity").
    conflict_field: str = ""

    @property
    def changes(self) -> bool:
        return bool(self.ops)


def field_path(path: Iterable[Any]) -> str:
    """A path as Kubernetes tools spell fields: ``spec.containers[0].image``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _mapping(value: Any, path: Path) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise AffinityError(field_path(path), wrong(value, "a mapping"))
    return value


def _sequence(value: Any, path: Path) -> Sequence[Any]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise AffinityError(field_path(path), wrong(value, "a list"))
    return value


def _satisfies(expr: _Expr, value: str) -> bool:
    """Whether a node whose label ``expr.key`` is ``value`` satisfies the expression."""
    return expr.holds(value)


def _allows(axis: int, value: str, selector: Mapping[str, Any], exprs: Iterable[_Expr]) -> bool:
    """Whether a node of this os (axis 0) or arch (axis 1) can satisfy selector and term.

    Every node carries the GA label, so every operator on it is decisive. A node may lack the
    beta label, and when it has one the value agrees with the GA label: the beta expressions
    must all hold for one of these two nodes (a nodeSelector entry on the beta key rules out
    the node without it).
    """
    ga, beta = AXES[axis]
    for key in (ga, beta):
        if key in selector and str(selector[key]) != value:
            return False
    beta_exprs: list[_Expr] = []
    for expr in exprs:
        if expr.key == ga and not _satisfies(expr, value):
            return False
        if expr.key == beta:
            beta_exprs.append(expr)
    with_label = all(_satisfies(e, value) for e in beta_exprs)
    without_label = beta not in selector and all(e.operator in ("NotIn", "DoesNotExist") for e in beta_exprs)
    return with_label or without_label


def _admitted(axis: int, selector: Mapping[str, Any], exprs: Sequence[_Expr]) -> frozenset[str] | None:
    """The finite set of values this axis can take under selector and term, None if unbounded."""
    ga, beta = AXES[axis]
    finite: set[str] | None = None
    for key in (ga, beta):
        if key in selector:
            finite = {str(selector[key])} if finite is None else finite & {str(selector[key])}
    for expr in exprs:
        if expr.key in (ga, beta) and expr.operator == "In":
            finite = set(expr.values) if finite is None else finite & set(expr.values)
    if finite is None:
        return None
    return frozenset(v for v in finite if _allows(axis, v, selector, exprs))


def rectangles(platforms: Iterable[NodePlatform]) -> list[tuple[frozenset[str], frozenset[str]]]:
    """Cover a set of (os, arch) pairs with os-set x arch-set products, exactly.

    One rectangle in the common case (``linux`` x ``amd64, arm64``); several only when the
    OSes support different architectures (``linux/arm64`` and ``windows/amd64``).
    """
    by_os: dict[str, set[str]] = {}
    for os, arch in platforms:
        by_os.setdefault(os, set()).add(arch)
    by_archs: dict[frozenset[str], set[str]] = {}
    for os, archs in by_os.items():
        by_archs.setdefault(frozenset(archs), set()).add(os)
    rects = [(frozenset(oses), archs) for archs, oses in by_archs.items()]
    return sorted(rects, key=lambda r: (sorted(r[0]), sorted(r[1])))


def _rects(platforms: Iterable[NodePlatform], builds: Mapping[NodePlatform, HostBuilds]) -> list[Rect]:
    """:func:`rectangles`, with the platforms limited to Windows builds in rectangles of their
    own: one per set of builds."""
    plain: set[NodePlatform] = set()
    by_builds: dict[HostBuilds, set[str]] = {}
    for platform in platforms:
        if platform in builds:
            by_builds.setdefault(builds[platform], set()).add(platform[1])
        else:
            plain.add(platform)
    rects: list[Rect] = [(oses, archs, None) for oses, archs in rectangles(plain)]
    for values, archs in sorted(by_builds.items(), key=lambda item: sorted(item[1])):
        rects.append((frozenset({"windows"}), frozenset(archs), values))
    return rects


def _build_constraint(selector: Mapping[str, Any], exprs: Iterable[_Expr]) -> HostBuilds | None:
    """The builds a node may have under the nodeSelector and a term's requirements on
    ``node.kubernetes.io/windows-build``; None when they say nothing of it. (A node without the
    label has an unknown build: it counts for no build-limited platform.)"""
    found: HostBuilds | None = None
    pinned = selector.get(WINDOWS_BUILD_KEY)
    limits = [HostBuilds(frozenset({str(pinned)}))] if pinned is not None else []
    for e in exprs:
        if e.key != WINDOWS_BUILD_KEY:
            continue
        if e.operator in ("In", "NotIn"):
            limits.append(HostBuilds(frozenset(e.values), e.operator == "NotIn"))
        elif e.operator == "Exists":
            limits.append(HostBuilds(frozenset(), True))
        else:  # DoesNotExist; Gt and Lt, which no build ("10.0.17763") satisfies
            limits.append(HostBuilds())
    for limit in limits:
        found = limit if found is None else found.intersect(limit)
    return found


def _builds_admitted(selector: Mapping[str, Any], exprs: Iterable[_Expr], want: HostBuilds) -> HostBuilds:
    """The builds of ``want`` a node may have under the nodeSelector and the term."""
    constraint = _build_constraint(selector, exprs)
    return want if constraint is None else want.intersect(constraint)


def _term_builds(
    platforms: Iterable[NodePlatform],
    builds: Mapping[NodePlatform, HostBuilds],
    selector: Mapping[str, Any],
    exprs: Sequence[_Expr],
) -> dict[NodePlatform, HostBuilds]:
    """The builds each build-limited platform can have under the nodeSelector and a term."""
    return {p: _builds_admitted(selector, exprs, builds[p]) for p in platforms if p in builds}


def _expression(axis: int, values: Iterable[str]) -> dict[str, Any]:
    return {"key": AXES[axis][0], "operator": "In", "values": sorted(values)}


def _describe_selector(selector: Mapping[str, Any]) -> str:
    keys = [k for pair in (*AXES, (WINDOWS_BUILD_KEY,)) for k in pair if k in selector]
    return ", ".join(f"{k}={selector[k]}" for k in keys)


def _describe_term(exprs: Sequence[_Expr], term: Mapping[str, Any]) -> str:
    parts = [
        f"{e.key} {e.operator}" + (f" [{', '.join(e.values)}]" if e.values else "")
        for e in exprs
        if e.key in AXES[0] or e.key in AXES[1]
    ]
    if not parts:
        parts = ["no os/arch constraint"]
    return "; ".join(parts)


def _fmt(platforms: Iterable[NodePlatform], builds: Mapping[NodePlatform, HostBuilds] | None = None) -> str:
    """``linux/amd64, windows(10.0.17763)/amd64``: Windows builds as containerd writes them."""
    builds = builds or {}
    return ", ".join(
        f"{o}({b})/{a}" if b else f"{o}/{a}"
        for o, a in sorted(set(platforms))
        for b in (builds[(o, a)].shown() if (o, a) in builds else [""])
    )


def _keep_values(
    raw: Sequence[Any], exprs: Sequence[_Expr], j: int, want: Callable[[str], bool], path: Path, ops: list[Op]
) -> dict[str, Any]:
    """Narrow the ``In`` expression ``j`` to the values ``want`` keeps (each once): removal
    operations go to ``ops``; the narrowed expression is returned."""
    kept: list[str] = []
    for k, value in enumerate(exprs[j].values):
        if want(value) and value not in kept:
            kept.append(value)
        else:
            ops.append(("remove", (*path, "matchExpressions", j, "values", k)))
    return {**raw[j], "values": kept}


def _restrict_term(
    term: Mapping[str, Any],
    exprs: Sequence[_Expr],
    rect: Rect,
    selector: Mapping[str, Any],
    path: Path,
) -> tuple[list[Op], dict[str, Any]]:
    """Operations (and the resulting term) that narrow ``term`` to exactly ``rect``."""
    raw = list(term.get("matchExpressions") or ())
    new_exprs: list[Any] = list(raw)
    removed: set[int] = set()
    appended: list[dict[str, Any]] = []
    ops: list[Op] = []
    for axis in (0, 1):
        want = rect[axis]
        if _admitted(axis, selector, exprs) == want:
            continue
        ga = AXES[axis][0]
        on_key = [j for j, e in enumerate(exprs) if e.key == ga]
        if len(on_key) == 1 and exprs[on_key[0]].operator == "In":
            new_exprs[on_key[0]] = _keep_values(raw, exprs, on_key[0], want.__contains__, path, ops)
        elif on_key:
            merged = _expression(axis, want)
            ops.append(("replace", (*path, "matchExpressions", on_key[0]), merged))
            new_exprs[on_key[0]] = merged
            for j in on_key[1:]:
                ops.append(("remove", (*path, "matchExpressions", j)))
                removed.add(j)
        else:
            appended.append(_expression(axis, want))
    if rect[2] is not None:
        builds = rect[2]
        on_key = [j for j, e in enumerate(exprs) if e.key == WINDOWS_BUILD_KEY]
        constraint = _build_constraint(selector, exprs)
        if constraint is not None and constraint.within(builds):
            pass  # already limited to builds the images run on
        elif len(on_key) == 1 and exprs[on_key[0]].operator == "In":
            new_exprs[on_key[0]] = _keep_values(raw, exprs, on_key[0], builds.admits, path, ops)
        else:
            appended.extend(builds.expressions(WINDOWS_BUILD_KEY))
    if appended:
        if raw:
            ops.extend(("add", (*path, "matchExpressions", "-"), e) for e in appended)
        elif "matchExpressions" in term:
            ops.append(("replace", (*path, "matchExpressions"), appended))
        else:
            ops.append(("add", (*path, "matchExpressions"), appended))
    final = [e for j, e in enumerate(new_exprs) if j not in removed] + appended
    new_term = {**term, "matchExpressions": final} if final else dict(term)
    return ops, new_term


def _attach(pod_spec: Mapping[str, Any], terms: list[dict[str, Any]]) -> Op:
    """The one operation that gives a pod spec without nodeSelectorTerms these terms."""
    value: Any = terms
    keys = list(TERMS_PATH)
    node: Any = pod_spec
    for depth, key in enumerate(keys):
        path = tuple(keys[: depth + 1])
        if key not in node:
            for inner in reversed(keys[depth + 1 :]):
                value = {inner: value}
            return ("add", path, value)
        child = node[key]
        if child is None or (depth == len(keys) - 1 and not child):
            for inner in reversed(keys[depth + 1 :]):
                value = {inner: value}
            return ("replace", path, value)
        node = _mapping(child, path) if depth < len(keys) - 1 else child
    raise AssertionError("nodeSelectorTerms present")  # pragma: no cover


def validate(pod_spec: Mapping[str, Any]) -> None:
    """Raise :class:`AffinityError` for what :func:`plan` cannot read in a pod spec's
    placement (plain data): a nodeSelector, affinity, nodeAffinity or required node affinity
    that is not a mapping, nodeSelectorTerms that are not a list, a term or expression of the
    wrong shape, tolerations that are not a list of mappings. The manifest reader calls it on
    every pod it reads, so that ``pin``, ``check`` and the KRM function refuse the same input
    with the same line (exit 2), whatever else is wrong with the pod."""
    _mapping(pod_spec.get("nodeSelector"), ("nodeSelector",))
    affinity = _mapping(pod_spec.get("affinity"), ("affinity",))
    node_affinity = _mapping(affinity.get("nodeAffinity"), TERMS_PATH[:2])
    required = _mapping(node_affinity.get(REQUIRED), TERMS_PATH[:3])
    for i, raw_term in enumerate(_sequence(required.get("nodeSelectorTerms"), TERMS_PATH)):
        from . import nodeselector  # only pods with terms pay for the parser

        parsed = nodeselector.parse_term(raw_term, field_path((*TERMS_PATH, i)))
        if parsed is not None and parsed.problem is not None and parsed.problem.kind == nodeselector.SHAPE:
            raise AffinityError(parsed.problem.where, parsed.problem.why)
    tolerations = pod_spec.get("tolerations")
    _sequence(tolerations, ("tolerations",))
    for i, item in enumerate(tolerations or ()):
        if not isinstance(item, Mapping):
            raise AffinityError(f"tolerations[{i}]", wrong(item, "a mapping"))


def plan(
    pod_spec: Mapping[str, Any],
    allowed: Iterable[NodePlatform],
    builds: Mapping[NodePlatform, HostBuilds] | None = None,
) -> Plan:
    """Plan the edits that keep a pod on nodes whose (os, arch) is in ``allowed`` and, for
    the Windows platforms in ``builds``, whose ``node.kubernetes.io/windows-build`` is one of
    the builds given (the images run on no other)."""
    allowed = frozenset(allowed)
    selector = _mapping(pod_spec.get("nodeSelector"), ("nodeSelector",))
    builds = {p: b for p, b in (builds or {}).items() if p in allowed and p[0] == "windows"}
    candidates = frozenset(
        p
        for p in allowed
        if all(_allows(axis, p[axis], selector, ()) for axis in (0, 1))
        and (p not in builds or not _builds_admitted(selector, (), builds[p]).empty)
    )
    if not candidates:
        return Plan(
            (),
            (),
            f"nodeSelector {_describe_selector(selector)} excludes every platform the images "
            f"support ({_fmt(allowed, builds)})",
            frozenset(),
            "nodeSelector",
        )

    affinity = _mapping(pod_spec.get("affinity"), ("affinity",))
    node_affinity = _mapping(affinity.get("nodeAffinity"), TERMS_PATH[:2])
    required = _mapping(node_affinity.get(REQUIRED), TERMS_PATH[:3])
    terms = _sequence(required.get("nodeSelectorTerms"), TERMS_PATH)

    if not terms and node_affinity.get(REQUIRED) is not None:
        # A required node selector without terms matches no node (kube-scheduler's
        # NodeSelector.Match; the API server refuses it outright): writing a term would let
        # the pods schedule, a loosening.
        return Plan(
            (),
            (),
            f"required node affinity admits no platform the images support ({_fmt(candidates)}): "
            "it has no nodeSelectorTerms and matches no node",
            frozenset(),
            "affinity",
        )
    if not terms:
        rects = _rects(candidates, _term_builds(candidates, builds, selector, ()))
        new_terms = []
        for rect in rects:
            term: dict[str, Any] = {"matchExpressions": []}
            for axis in (0, 1):
                if _admitted(axis, selector, ()) != rect[axis]:
                    term["matchExpressions"].append(_expression(axis, rect[axis]))
            constraint = _build_constraint(selector, ())
            if rect[2] is not None and (constraint is None or not constraint.within(rect[2])):
                term["matchExpressions"].extend(rect[2].expressions(WINDOWS_BUILD_KEY))
            new_terms.append(term)
        if not new_terms[0]["matchExpressions"]:
            # The nodeSelector fixes both os and arch to an allowed pair (so there is a single
            # rectangle): the pod is pinned already.
            return Plan((), (), None, candidates)
        return Plan((_attach(pod_spec, new_terms),), (), None, candidates)

    ops: list[Op] = []
    warnings: list[str] = []
    dead: list[str] = []
    rewritten: list[Any] = []
    rewrite = False
    admitted: set[NodePlatform] = set()
    from . import nodeselector  # the requirements of a term, as the scheduler parses them

    for i, raw_term in enumerate(terms):
        path = (*TERMS_PATH, i)
        parsed = nodeselector.parse_term(raw_term, field_path(path))
        if parsed is None:
            rewritten.append(raw_term)
            dead.append(f"term {i} is empty and matches no node")
            continue
        if parsed.problem is not None:
            if parsed.problem.kind == nodeselector.SHAPE:
                raise AffinityError(parsed.problem.where, parsed.problem.why)
            # The scheduler cannot parse it, so it matches no node: it stays dead (never
            # edited into a term that matches), and goes, as terms that admit nothing do.
            ops.append(("remove", path))
            dead.append(f"term {i} matches no node (the scheduler cannot parse it: {parsed.problem.why})")
            warnings.append(
                f"dropped required node affinity term {i}: the scheduler cannot parse it "
                f"({parsed.problem}), so it matches no node"
            )
            continue
        term = raw_term
        exprs = list(parsed.expressions)
        term_builds = _term_builds(candidates, builds, selector, exprs)
        term_platforms = frozenset(
            p
            for p in candidates
            if all(_allows(a, p[a], selector, exprs) for a in (0, 1))
            and not (p in term_builds and term_builds[p].empty)
        )
        if not term_platforms:
            ops.append(("remove", path))
            description = _describe_term(exprs, term)
            dead.append(f"term {i} ({description}) admits none of them")
            warnings.append(
                f"dropped required node affinity term {i} ({description}): it admits no "
                f"platform the images support ({_fmt(candidates, builds)})"
            )
            continue
        admitted |= term_platforms
        rects = _rects(term_platforms, term_builds)
        rewrite = rewrite or len(rects) > 1
        for rect in rects:
            term_ops, new_term = _restrict_term(term, exprs, rect, selector, path)
            rewritten.append(new_term)
            if len(rects) == 1:
                ops.extend(term_ops)

    if not admitted:
        where = f" with nodeSelector {_describe_selector(selector)}" if candidates != allowed else ""
        return Plan(
            (),
            (),
            f"required node affinity admits no platform the images support "
            f"({_fmt(candidates, builds)}){where}: " + "; ".join(dead),
            frozenset(),
            "affinity",
        )
    if rewrite:
        ops = [("replace", TERMS_PATH, rewritten)]
    return Plan(tuple(ops), tuple(warnings), None, frozenset(admitted))


def _container(root: Any, path: Path) -> tuple[Any, Any]:
    node = root
    for key in path[:-1]:
        node = node[key]
    return node, path[-1]


def _copy(value: Any) -> Any:
    """A deep copy of plain data (dicts, lists, scalars)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def apply(pod_spec: Any, ops: Iterable[Op]) -> Any:
    """Apply a plan's operations to plain data (a deep copy is returned; input untouched)."""
    copy = _copy
    result = copy(pod_spec)
    removals: dict[int, tuple[list[Any], list[int]]] = {}
    appends: list[tuple[list[Any], Any]] = []
    for op in ops:
        kind, path = op[0], op[1]
        parent, last = _container(result, path)
        if kind == "remove":
            removals.setdefault(id(parent), (parent, []))[1].append(last)
        elif kind == "add" and last == "-":
            appends.append((parent, copy(op[2])))
        elif kind == "add":
            if last in parent:
                raise ValueError(f"add: {field_path(path)} already exists")
            parent[last] = copy(op[2])
        elif kind == "replace":
            parent[last] = copy(op[2])
        else:
            raise ValueError(f"unknown operation {kind!r}")
    for parent, value in appends:
        parent.append(value)
    for parent, indices in removals.values():
        for index in sorted(set(indices), reverse=True):
            del parent[index]
    return result
