"""Properties of the affinity transform, checked against the scheduler model on random pod specs.

The node population has every (os, arch) combination, each with consistent GA labels
(``kubernetes.io/os``, ``kubernetes.io/arch``), with neither, either or both beta labels, with
and without unrelated labels, under a couple of node names. Beta labels, when present, always
agree with the GA ones: that is what the kubelet sets, and what the transform assumes.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from scheduler import pod_matches_node

from kubectl_arch import affinity

OS_KEY, ARCH_KEY = "kubernetes.io/os", "kubernetes.io/arch"
BETA_OS_KEY, BETA_ARCH_KEY = "beta.kubernetes.io/os", "beta.kubernetes.io/arch"
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
ZONE_KEY, GEN_KEY = "example.com/zone", "example.com/generation"
PLATFORM_KEYS = (OS_KEY, ARCH_KEY, BETA_OS_KEY, BETA_ARCH_KEY)

OSES = ("linux", "windows")
ARCHES = ("amd64", "arm64", "arm", "s390x", "ppc64le", "386")
PLATFORMS = tuple(itertools.product(OSES, ARCHES))
NODE_NAMES = ("node-a", "node-b")

# Values an expression may name: the real ones, one no node has, and numbers for Gt/Lt.
VOCABULARY: dict[str, tuple[str, ...]] = {
    OS_KEY: (*OSES, "darwin"),
    BETA_OS_KEY: (*OSES, "darwin"),
    ARCH_KEY: (*ARCHES, "riscv64"),
    BETA_ARCH_KEY: (*ARCHES, "riscv64"),
    ZONE_KEY: ("a", "b", "c"),
    GEN_KEY: ("1", "2", "3"),
}
KEYS = tuple(VOCABULARY)

Node = tuple[dict[str, str], str, tuple[str, str]]  # labels, name, (os, arch)


def _population() -> list[Node]:
    nodes: list[Node] = []
    extras: tuple[dict[str, str], ...] = ({}, {ZONE_KEY: "a", GEN_KEY: "2"}, {ZONE_KEY: "b", GEN_KEY: "3"})
    betas = ((), (BETA_OS_KEY,), (BETA_ARCH_KEY,), (BETA_OS_KEY, BETA_ARCH_KEY))
    for (os, arch), beta, extra, name in itertools.product(PLATFORMS, betas, extras, NODE_NAMES):
        labels = {OS_KEY: os, ARCH_KEY: arch, **extra}
        labels |= {key: os if key == BETA_OS_KEY else arch for key in beta}
        nodes.append((labels, name, (os, arch)))
    return nodes


NODES = _population()


# -- strategies -----------------------------------------------------------------------------

# Expressions mostly name the platform keys, and mostly with In or NotIn.
EXPRESSION_KEYS = (
    OS_KEY,
    ARCH_KEY,
    ARCH_KEY,
    OS_KEY,
    ARCH_KEY,
    BETA_OS_KEY,
    BETA_ARCH_KEY,
    ZONE_KEY,
    GEN_KEY,
)
EXPRESSION_OPERATORS = ("In", "In", "In", "NotIn", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
MISSING = ...  # a key left out of its mapping (as opposed to present with a null value)


def _pick(draw: st.DrawFn, weights: dict[str, int]) -> str:
    """One of the names, with the given relative weights (shrinking towards the first)."""
    index = draw(st.integers(0, sum(weights.values()) - 1))
    for name, weight in weights.items():
        if index < weight:
            return name
        index -= weight
    raise AssertionError("unreachable")


def _put(mapping: dict[str, Any], key: str, value: Any) -> None:
    if value is not MISSING:
        mapping[key] = value


@st.composite
def expressions(draw: st.DrawFn) -> dict[str, Any]:
    key = draw(st.sampled_from(EXPRESSION_KEYS))
    operator = draw(st.sampled_from(EXPRESSION_OPERATORS))
    out: dict[str, Any] = {"key": key, "operator": operator}
    if operator in ("In", "NotIn"):
        out["values"] = draw(st.lists(st.sampled_from(VOCABULARY[key]), min_size=1, max_size=4))
    elif operator in ("Gt", "Lt"):
        out["values"] = [draw(st.sampled_from(("0", "2", "5", "x")))]
    else:
        _put(out, "values", draw(st.sampled_from((MISSING, None, []))))
    return out


field_requirements = st.builds(
    lambda op, name: {"key": "metadata.name", "operator": op, "values": [name]},
    st.sampled_from(("In", "NotIn")),
    st.sampled_from((*NODE_NAMES, "node-x")),
)


@st.composite
def terms(draw: st.DrawFn) -> Any:
    """A node selector term: expressions and/or fields, sometimes empty or null."""
    kind = _pick(draw, {"expressions": 10, "both": 2, "fields": 1, "empty": 1, "null": 1})
    if kind == "null":
        return None
    term: dict[str, Any] = {}
    empty = draw(st.sampled_from((MISSING, None, [])))
    exprs = (
        draw(st.lists(expressions(), min_size=1, max_size=4)) if kind in ("expressions", "both") else empty
    )
    fields = (
        draw(st.lists(field_requirements, min_size=1, max_size=2)) if kind in ("fields", "both") else empty
    )
    if draw(st.booleans()):
        _put(term, "matchFields", fields)
        _put(term, "matchExpressions", exprs)
    else:
        _put(term, "matchExpressions", exprs)
        _put(term, "matchFields", fields)
    return term


@st.composite
def node_selectors(draw: st.DrawFn) -> Any:
    keys = draw(st.lists(st.sampled_from(KEYS), unique=True, min_size=1, max_size=3))
    return {k: draw(st.sampled_from(VOCABULARY[k])) for k in keys}


preferred_terms = st.lists(
    st.builds(
        lambda weight, exprs: {"weight": weight, "preference": {"matchExpressions": exprs}},
        st.integers(1, 100),
        st.lists(expressions(), min_size=1, max_size=2),
    ),
    min_size=1,
    max_size=2,
)
tolerations = st.lists(
    st.fixed_dictionaries(
        {"key": st.sampled_from(("kubernetes.io/arch", "dedicated")), "operator": st.just("Exists")},
        optional={"effect": st.sampled_from(("NoSchedule", "NoExecute"))},
    ),
    min_size=1,
    max_size=2,
)
POD_ANTI_AFFINITY = {
    REQUIRED: [{"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]
}
POD_AFFINITY = {
    PREFERRED: [
        {
            "weight": 50,
            "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": ZONE_KEY},
        }
    ]
}


REQUIRED_SHAPES: dict[str, Any] = {
    "missing": MISSING,
    "null": None,
    "empty": {},
    "no-terms": {"nodeSelectorTerms": []},
    "null-terms": {"nodeSelectorTerms": None},
}


@st.composite
def required_sections(draw: st.DrawFn, termless: bool = True) -> Any:
    """A required node affinity: terms, or missing, null, or (with ``termless``) without terms."""
    weights = {"terms": 12, "missing": 2, "null": 1}
    if termless:
        weights |= {"empty": 1, "no-terms": 1, "null-terms": 1}
    kind = _pick(draw, weights)
    if kind == "terms":
        return {"nodeSelectorTerms": draw(st.lists(terms(), min_size=1, max_size=3))}
    return copy.deepcopy(REQUIRED_SHAPES[kind])


@st.composite
def affinities(draw: st.DrawFn, termless: bool = True) -> Any:
    """``affinity``: mostly with required node affinity, sometimes null levels or other parts."""
    level = _pick(
        draw, {"required": 12, "missing": 1, "null": 1, "empty": 1, "node-null": 1, "node-empty": 1}
    )
    if level in ("missing", "null", "empty"):
        return {"missing": MISSING, "null": None, "empty": {}}[level]
    out: dict[str, Any] = {}
    if draw(st.integers(0, 3)) == 0:
        out["podAntiAffinity"] = copy.deepcopy(POD_ANTI_AFFINITY)
    if draw(st.integers(0, 5)) == 0:
        out["podAffinity"] = copy.deepcopy(POD_AFFINITY)
    node: Any = {"node-null": None, "node-empty": {}}.get(level, {})
    if level == "required":
        if draw(st.integers(0, 3)) == 0:
            node[PREFERRED] = draw(preferred_terms)
        _put(node, REQUIRED, draw(required_sections(termless)))
    out["nodeAffinity"] = node
    if draw(st.integers(0, 5)) == 0:  # nodeAffinity first
        out = dict(reversed(out.items()))
    return out


@st.composite
def pod_specs(draw: st.DrawFn, termless: bool = True) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "app", "image": "example.com/app:1"}]}
    if draw(st.booleans()):
        spec["tolerations"] = draw(tolerations)
    selector = _pick(draw, {"missing": 4, "entries": 4, "null": 1, "empty": 1})
    if selector == "entries":
        spec["nodeSelector"] = draw(node_selectors())
    elif selector != "missing":
        spec["nodeSelector"] = {"null": None, "empty": {}}[selector]
    _put(spec, "affinity", draw(affinities(termless)))
    if draw(st.booleans()):
        spec["priorityClassName"] = "high"
    return spec


allowed_sets = st.one_of(
    st.frozensets(st.sampled_from(PLATFORMS), min_size=1, max_size=3),
    st.frozensets(st.sampled_from(PLATFORMS), min_size=4),
)


# -- node matching and views of a pod spec ----------------------------------------------------


def matched(pod: dict[str, Any]) -> list[Node]:
    return [node for node in NODES if pod_matches_node(pod, node[0], node[1])]


def relaxed(pod: dict[str, Any]) -> dict[str, Any]:
    """The pod without what the transform cannot know about: constraints on other keys and names.

    Drops nodeSelector entries and expressions on keys other than the GA and beta os/arch keys,
    and all matchFields; a term that had any requirement keeps a vacuous one, so that it stays
    non-empty, and an empty term stays empty.
    """
    out = copy.deepcopy(pod)
    if out.get("nodeSelector"):
        out["nodeSelector"] = {k: v for k, v in out["nodeSelector"].items() if k in PLATFORM_KEYS}
    for term in _terms(out):
        if not isinstance(term, dict) or not (term.get("matchExpressions") or term.get("matchFields")):
            continue
        kept = [e for e in term.get("matchExpressions") or () if e["key"] in PLATFORM_KEYS]
        term.pop("matchFields", None)
        term["matchExpressions"] = [*kept, {"key": "example.com/never-set", "operator": "DoesNotExist"}]
    return out


def _terms(pod: dict[str, Any]) -> list[Any]:
    required = ((pod.get("affinity") or {}).get("nodeAffinity") or {}).get(REQUIRED) or {}
    return required.get("nodeSelectorTerms") or []


def outside_required(pod: dict[str, Any]) -> dict[str, Any]:
    """The pod spec without the required node affinity (and the levels that held only it)."""
    out = copy.deepcopy(pod)
    aff = out.get("affinity")
    if isinstance(aff, dict):
        node = aff.get("nodeAffinity")
        if isinstance(node, dict):
            node.pop(REQUIRED, None)
            if not node:
                del aff["nodeAffinity"]
        elif node is None:
            aff.pop("nodeAffinity", None)
    if not out.get("affinity"):
        out.pop("affinity", None)
    return out


def planned(pod: dict[str, Any], allowed: frozenset[tuple[str, str]]) -> tuple[affinity.Plan, dict[str, Any]]:
    before = copy.deepcopy(pod)
    result = affinity.plan(pod, allowed)
    assert pod == before, "plan must not modify its input"
    patched = affinity.apply(pod, result.ops)
    assert pod == before, "apply must not modify its input"
    if result.conflict:
        assert result.ops == () and result.admitted == frozenset()
    return result, patched


# No "explain" phase: on these large inputs it takes minutes and shrinking already says enough.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)
PROPERTY = settings(
    max_examples=500, deadline=None, phases=PHASES, suppress_health_check=[HealthCheck.too_slow]
)


# -- properties -----------------------------------------------------------------------------

# A required node affinity without terms matches no node (tests/scheduler.py), whereas the
# transform reads it as no constraint and writes terms into it: such pods are left out of the
# properties below, which compare the transform with the scheduler model, and covered by
# test_affinity.py.
pinnable_pod_specs = pod_specs(termless=False)


@PROPERTY
@given(pinnable_pod_specs, allowed_sets)
def test_pinned(pod: dict[str, Any], allowed: frozenset[tuple[str, str]]) -> None:
    """Without a conflict, every node the patched pod can land on has an allowed platform."""
    result, patched = planned(pod, allowed)
    if result.conflict:
        return
    landed = {platform for _, _, platform in matched(patched)}
    assert landed <= allowed
    assert landed <= result.admitted <= allowed


@PROPERTY
@given(pinnable_pod_specs, allowed_sets)
def test_never_loosens(pod: dict[str, Any], allowed: frozenset[tuple[str, str]]) -> None:
    _, patched = planned(pod, allowed)
    before = {(n[1], tuple(sorted(n[0].items()))) for n in matched(pod)}
    after = {(n[1], tuple(sorted(n[0].items()))) for n in matched(patched)}
    assert after <= before


@PROPERTY
@given(pinnable_pod_specs, allowed_sets)
def test_not_over_tight(pod: dict[str, Any], allowed: frozenset[tuple[str, str]]) -> None:
    """Every allowed node the original pod could land on is still reachable after the patch."""
    result, patched = planned(pod, allowed)
    for labels, name, platform in matched(pod):
        if platform in allowed:
            assert pod_matches_node(patched, labels, name), (labels, name)
            assert platform in result.admitted


@PROPERTY
@given(pinnable_pod_specs, allowed_sets)
def test_conflict_iff_no_allowed_platform_reachable(
    pod: dict[str, Any], allowed: frozenset[tuple[str, str]]
) -> None:
    """A conflict means no allowed node can take the pod; no conflict means one can, up to
    constraints on other labels and node names, which the transform assumes satisfiable.

    Precisely: conflict iff no node of an allowed platform matches the pod once those
    constraints are relaxed (:func:`relaxed`). Relaxing only loosens, so a conflict also means
    the original pod matches no allowed node.
    """
    result, _ = planned(pod, allowed)
    reachable = {p for _, _, p in matched(relaxed(pod))} & allowed
    assert bool(result.conflict) == (not reachable), reachable
    if result.conflict:
        assert not {p for _, _, p in matched(pod)} & allowed
    else:
        assert reachable <= result.admitted


@PROPERTY
@given(pinnable_pod_specs, allowed_sets)
def test_idempotent(pod: dict[str, Any], allowed: frozenset[tuple[str, str]]) -> None:
    result, patched = planned(pod, allowed)
    again = affinity.plan(patched, allowed)
    assert again.ops == ()
    assert again.conflict == result.conflict
    if not result.conflict:
        assert again.admitted == result.admitted


@PROPERTY
@given(pinnable_pod_specs, allowed_sets)
def test_only_required_node_affinity_changes(
    pod: dict[str, Any], allowed: frozenset[tuple[str, str]]
) -> None:
    result, patched = planned(pod, allowed)
    assert outside_required(patched) == outside_required(pod)
    for op in result.ops:
        prefix = tuple(op[1][:3])
        assert prefix == ("affinity", "nodeAffinity", REQUIRED)[: len(prefix)]
