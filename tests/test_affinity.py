"""Exact plans of the affinity transform for the shapes of pod spec it must handle."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from scheduler import pod_matches_node

from kubectl_arch.affinity import AffinityError, Plan, apply, plan, rectangles

OS, ARCH = "kubernetes.io/os", "kubernetes.io/arch"
BETA_OS, BETA_ARCH = "beta.kubernetes.io/os", "beta.kubernetes.io/arch"
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
TERMS = ("affinity", "nodeAffinity", REQUIRED, "nodeSelectorTerms")

LINUX_AMD64, LINUX_ARM64 = ("linux", "amd64"), ("linux", "arm64")
LINUX_S390X, WINDOWS_AMD64 = ("linux", "s390x"), ("windows", "amd64")
BOTH = frozenset({LINUX_AMD64, LINUX_ARM64})


def expr(key: str, operator: str, *values: str) -> dict[str, Any]:
    out: dict[str, Any] = {"key": key, "operator": operator}
    if values:
        out["values"] = list(values)
    return out


def required(*terms: Any, **spec: Any) -> dict[str, Any]:
    """A pod spec with these required node selector terms (and other pod spec fields)."""
    return {**spec, "affinity": {"nodeAffinity": {REQUIRED: {"nodeSelectorTerms": list(terms)}}}}


def terms_of(pod: dict[str, Any]) -> list[Any]:
    return pod["affinity"]["nodeAffinity"][REQUIRED]["nodeSelectorTerms"]


def in_os(*values: str) -> dict[str, Any]:
    return expr(OS, "In", *values)


def in_arch(*values: str) -> dict[str, Any]:
    return expr(ARCH, "In", *values)


def term_path(*rest: Any) -> tuple[Any, ...]:
    return (*TERMS, *rest)


def checked(pod: dict[str, Any], allowed: frozenset[tuple[str, str]] | set[tuple[str, str]]) -> Plan:
    """The plan, after checking it leaves its input alone and is idempotent."""
    before = copy.deepcopy(pod)
    result = plan(pod, allowed)
    assert pod == before
    if not result.conflict:
        assert plan(apply(pod, result.ops), allowed).ops == ()
    return result


# -- no required node affinity ------------------------------------------------------------------


def test_no_affinity_gets_one_term_os_then_arch_sorted() -> None:
    result = checked({"containers": []}, {LINUX_ARM64, LINUX_AMD64})
    expected_term = {"matchExpressions": [in_os("linux"), in_arch("amd64", "arm64")]}
    assert result == Plan(
        (("add", ("affinity",), {"nodeAffinity": {REQUIRED: {"nodeSelectorTerms": [expected_term]}}}),),
        (),
        None,
        BOTH,
    )
    assert apply({"containers": []}, result.ops) == {"containers": [], **required(expected_term)}


@pytest.mark.parametrize(
    ("pod", "op_path", "kind"),
    [
        ({"affinity": None}, ("affinity",), "replace"),
        ({"affinity": {}}, ("affinity", "nodeAffinity"), "add"),
        ({"affinity": {"nodeAffinity": None}}, ("affinity", "nodeAffinity"), "replace"),
        ({"affinity": {"nodeAffinity": {REQUIRED: None}}}, ("affinity", "nodeAffinity", REQUIRED), "replace"),
    ],
)
def test_missing_levels_are_filled_in_at_the_first_gap(
    pod: dict[str, Any], op_path: tuple[str, ...], kind: str
) -> None:
    result = checked(pod, {LINUX_ARM64})
    assert [(op[0], op[1]) for op in result.ops] == [(kind, op_path)]
    assert terms_of(apply(pod, result.ops)) == [{"matchExpressions": [in_os("linux"), in_arch("arm64")]}]


@pytest.mark.parametrize("required_section", [{}, {"nodeSelectorTerms": None}, {"nodeSelectorTerms": []}])
def test_a_required_node_selector_without_terms_matches_no_node(required_section: dict[str, Any]) -> None:
    # kube-scheduler ORs the terms, so none matches no node: writing a term would loosen the pod.
    pod = {"affinity": {"nodeAffinity": {REQUIRED: required_section}}}
    result = checked(pod, {LINUX_ARM64})
    assert result == Plan(
        (),
        (),
        "required node affinity admits no platform the images support (linux/arm64): "
        "it has no nodeSelectorTerms and matches no node",
        frozenset(),
        "affinity",
    )
    assert not pod_matches_node(pod, {"kubernetes.io/os": "linux", "kubernetes.io/arch": "arm64"}, "n")


def test_preferred_terms_and_pod_anti_affinity_are_kept() -> None:
    preferred = [{"weight": 10, "preference": {"matchExpressions": [in_arch("amd64")]}}]
    anti = {
        REQUIRED: [
            {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}
        ]
    }
    pod = {"affinity": {"podAntiAffinity": anti, "nodeAffinity": {PREFERRED: preferred}}}
    result = checked(pod, {LINUX_ARM64})
    new = {"nodeSelectorTerms": [{"matchExpressions": [in_os("linux"), in_arch("arm64")]}]}
    assert result.ops == (("add", ("affinity", "nodeAffinity", REQUIRED), new),)
    assert apply(pod, result.ops) == {
        "affinity": {"podAntiAffinity": anti, "nodeAffinity": {PREFERRED: preferred, REQUIRED: new}}
    }


def test_node_selector_on_arch_is_intersected_and_only_os_written() -> None:
    pod = {"nodeSelector": {ARCH: "amd64"}}
    result = checked(pod, BOTH)
    assert result.ops == (
        (
            "add",
            ("affinity",),
            {"nodeAffinity": {REQUIRED: {"nodeSelectorTerms": [{"matchExpressions": [in_os("linux")]}]}}},
        ),
    )
    assert result.admitted == {LINUX_AMD64}
    assert apply(pod, result.ops)["nodeSelector"] == {ARCH: "amd64"}


def test_node_selector_fixing_both_axes_needs_nothing() -> None:
    assert checked({"nodeSelector": {OS: "linux", ARCH: "arm64"}}, {LINUX_ARM64, WINDOWS_AMD64}) == Plan(
        (), (), None, frozenset({LINUX_ARM64})
    )


def test_node_selector_excluding_everything_is_a_conflict() -> None:
    result = checked({"nodeSelector": {ARCH: "s390x"}}, BOTH)
    assert result.ops == () and result.admitted == frozenset()
    assert result.conflict == (
        "nodeSelector kubernetes.io/arch=s390x excludes every platform the images support "
        "(linux/amd64, linux/arm64)"
    )


def test_legacy_beta_node_selector_counts() -> None:
    pod = {"nodeSelector": {BETA_ARCH: "arm64"}}
    result = checked(pod, BOTH)
    assert result.admitted == {LINUX_ARM64}
    assert terms_of(apply(pod, result.ops)) == [{"matchExpressions": [in_os("linux")]}]
    conflict = checked({"nodeSelector": {BETA_OS: "windows"}}, BOTH)
    assert conflict.conflict is not None and "beta.kubernetes.io/os=windows" in conflict.conflict


def test_non_rectangular_platforms_get_one_term_per_os_group() -> None:
    result = checked({}, {WINDOWS_AMD64, LINUX_ARM64})
    assert terms_of(apply({}, result.ops)) == [
        {"matchExpressions": [in_os("linux"), in_arch("arm64")]},
        {"matchExpressions": [in_os("windows"), in_arch("amd64")]},
    ]
    three = checked({}, {WINDOWS_AMD64, LINUX_ARM64, LINUX_AMD64})
    assert terms_of(apply({}, three.ops)) == [
        {"matchExpressions": [in_os("linux"), in_arch("amd64", "arm64")]},
        {"matchExpressions": [in_os("windows"), in_arch("amd64")]},
    ]


def test_rectangles_group_oses_with_equal_arch_sets() -> None:
    pairs = {
        ("linux", "amd64"),
        ("windows", "amd64"),
        ("linux", "arm64"),
        ("windows", "arm64"),
        ("darwin", "arm64"),
    }
    assert rectangles(pairs) == [
        (frozenset({"darwin"}), frozenset({"arm64"})),
        (frozenset({"linux", "windows"}), frozenset({"amd64", "arm64"})),
    ]


# -- existing required terms ---------------------------------------------------------------------


def test_requirement_goes_into_every_existing_term() -> None:
    zone_a = {"matchExpressions": [expr("zone", "In", "a")]}
    zone_b = {"matchExpressions": [expr("zone", "In", "b"), expr("disk", "Exists")]}
    gpu = {"matchExpressions": [expr("gpu", "DoesNotExist")]}
    pod = required(zone_a, zone_b, gpu)
    result = checked(pod, BOTH)
    appends = tuple(
        ("add", term_path(i, "matchExpressions", "-"), new)
        for i in range(3)
        for new in (in_os("linux"), in_arch("amd64", "arm64"))
    )
    assert result == Plan(appends, (), None, BOTH)
    assert terms_of(apply(pod, result.ops)) == [
        {"matchExpressions": [expr("zone", "In", "a"), in_os("linux"), in_arch("amd64", "arm64")]},
        {"matchExpressions": [*zone_b["matchExpressions"], in_os("linux"), in_arch("amd64", "arm64")]},
        {"matchExpressions": [expr("gpu", "DoesNotExist"), in_os("linux"), in_arch("amd64", "arm64")]},
    ]


def test_arch_in_is_intersected_in_place() -> None:
    pod = required({"matchExpressions": [in_arch("amd64", "s390x"), expr("zone", "In", "a")]})
    result = checked(pod, BOTH)
    assert result.ops == (
        ("remove", term_path(0, "matchExpressions", 0, "values", 1)),
        ("add", term_path(0, "matchExpressions", "-"), in_os("linux")),
    )
    assert result.admitted == {LINUX_AMD64}
    assert terms_of(apply(pod, result.ops)) == [
        {"matchExpressions": [in_arch("amd64"), expr("zone", "In", "a"), in_os("linux")]}
    ]


def test_arch_in_already_exact_is_left_alone() -> None:
    pod = required({"matchExpressions": [in_os("linux"), in_arch("arm64", "amd64")]})
    assert checked(pod, BOTH) == Plan((), (), None, BOTH)


def test_arch_not_in_becomes_in() -> None:
    pod = required({"matchExpressions": [expr(ARCH, "NotIn", "arm64")]})
    result = checked(pod, {LINUX_AMD64, LINUX_ARM64, LINUX_S390X})
    assert result.ops == (
        ("replace", term_path(0, "matchExpressions", 0), in_arch("amd64", "s390x")),
        ("add", term_path(0, "matchExpressions", "-"), in_os("linux")),
    )
    assert terms_of(apply(pod, result.ops)) == [
        {"matchExpressions": [in_arch("amd64", "s390x"), in_os("linux")]}
    ]


def test_two_expressions_on_arch_merge_into_one_in() -> None:
    pod = required(
        {
            "matchExpressions": [
                in_arch("amd64", "arm64", "s390x"),
                expr("zone", "Exists"),
                expr(ARCH, "NotIn", "s390x"),
            ]
        }
    )
    result = checked(pod, {LINUX_AMD64})
    assert result.ops == (
        ("replace", term_path(0, "matchExpressions", 0), in_arch("amd64")),
        ("remove", term_path(0, "matchExpressions", 2)),
        ("add", term_path(0, "matchExpressions", "-"), in_os("linux")),
    )
    assert terms_of(apply(pod, result.ops)) == [
        {"matchExpressions": [in_arch("amd64"), expr("zone", "Exists"), in_os("linux")]}
    ]


def test_duplicate_values_are_dropped_while_intersecting() -> None:
    pod = required({"matchExpressions": [in_os("linux"), in_arch("arm64", "s390x", "arm64")]})
    result = checked(pod, {LINUX_ARM64})
    assert result.ops == (
        ("remove", term_path(0, "matchExpressions", 1, "values", 1)),
        ("remove", term_path(0, "matchExpressions", 1, "values", 2)),
    )
    assert terms_of(apply(pod, result.ops)) == [{"matchExpressions": [in_os("linux"), in_arch("arm64")]}]


def test_term_admitting_nothing_is_dropped_with_a_warning() -> None:
    dead = {"matchExpressions": [in_arch("s390x"), expr("zone", "In", "a")]}
    alive = {"matchExpressions": [expr("zone", "In", "b")]}
    pod = required(dead, alive)
    result = checked(pod, {LINUX_ARM64})
    assert result.ops == (
        ("remove", term_path(0)),
        ("add", term_path(1, "matchExpressions", "-"), in_os("linux")),
        ("add", term_path(1, "matchExpressions", "-"), in_arch("arm64")),
    )
    assert result.warnings == (
        "dropped required node affinity term 0 (kubernetes.io/arch In [s390x]): it admits no platform "
        "the images support (linux/arm64)",
    )
    assert result.conflict is None
    assert terms_of(apply(pod, result.ops)) == [
        {"matchExpressions": [expr("zone", "In", "b"), in_os("linux"), in_arch("arm64")]}
    ]


def test_all_terms_dead_is_a_conflict() -> None:
    pod = required(
        {"matchExpressions": [in_arch("s390x")]}, {}, {"matchExpressions": [expr(OS, "NotIn", "linux")]}
    )
    result = checked(pod, {LINUX_ARM64})
    assert result.ops == () and result.warnings == () and result.admitted == frozenset()
    assert result.conflict == (
        "required node affinity admits no platform the images support (linux/arm64): "
        "term 0 (kubernetes.io/arch In [s390x]) admits none of them; term 1 is empty and matches no node; "
        "term 2 (kubernetes.io/os NotIn [linux]) admits none of them"
    )


def test_conflict_names_the_node_selector_that_narrowed_the_platforms() -> None:
    pod = required({"matchExpressions": [in_arch("amd64")]}, nodeSelector={ARCH: "arm64"})
    result = checked(pod, BOTH)
    assert result.conflict is not None
    assert result.conflict.startswith(
        "required node affinity admits no platform the images support (linux/arm64) "
        "with nodeSelector kubernetes.io/arch=arm64: term 0"
    )


@pytest.mark.parametrize("operator", ["DoesNotExist", "Gt", "Lt"])
def test_operators_no_node_satisfies_on_the_ga_key_kill_the_term(operator: str) -> None:
    values = ("3",) if operator in ("Gt", "Lt") else ()
    result = checked(required({"matchExpressions": [expr(ARCH, operator, *values)]}), BOTH)
    assert result.conflict is not None and f"kubernetes.io/arch {operator}" in result.conflict


def test_legacy_beta_arch_in_a_term_narrows_the_platforms() -> None:
    pod = required({"matchExpressions": [expr(BETA_ARCH, "In", "arm64", "s390x")]})
    result = checked(pod, BOTH)
    assert result.admitted == {LINUX_ARM64}
    assert terms_of(apply(pod, result.ops)) == [
        {"matchExpressions": [expr(BETA_ARCH, "In", "arm64", "s390x"), in_os("linux"), in_arch("arm64")]}
    ]
    exact = required({"matchExpressions": [expr(BETA_OS, "In", "linux"), expr(BETA_ARCH, "In", "arm64")]})
    assert checked(exact, BOTH) == Plan((), (), None, frozenset({LINUX_ARM64}))
    dead = checked(required({"matchExpressions": [expr(BETA_ARCH, "In", "s390x")]}), BOTH)
    assert dead.conflict is not None and "beta.kubernetes.io/arch In [s390x]" in dead.conflict


@pytest.mark.parametrize(
    "beta_exprs",
    [
        [expr(BETA_ARCH, "Gt", "1")],
        [expr(BETA_OS, "Lt", "9")],
        [expr(BETA_ARCH, "In", "arm64"), expr(BETA_ARCH, "DoesNotExist")],
        [expr(BETA_ARCH, "Exists"), expr(BETA_ARCH, "NotIn", "amd64", "arm64")],
    ],
)
def test_legacy_beta_expressions_no_node_satisfies_kill_the_term(beta_exprs: list[dict[str, Any]]) -> None:
    """A node has no beta label or one agreeing with the GA label: neither satisfies these."""
    pod = required({"matchExpressions": beta_exprs})
    nodes = [
        {OS: os, ARCH: arch, **beta}
        for os, arch in BOTH
        for beta in ({}, {BETA_OS: os}, {BETA_ARCH: arch}, {BETA_OS: os, BETA_ARCH: arch})
    ]
    assert not any(pod_matches_node(pod, labels, "n") for labels in nodes)
    result = checked(pod, BOTH)
    assert result.conflict is not None and result.ops == ()


@pytest.mark.parametrize(
    "beta_exprs",
    [
        [expr(BETA_ARCH, "DoesNotExist")],
        [expr(BETA_ARCH, "NotIn", "arm64", "amd64")],
        [expr(BETA_ARCH, "Exists"), expr(BETA_ARCH, "NotIn", "amd64")],
    ],
)
def test_legacy_beta_expressions_some_node_satisfies_keep_the_term(beta_exprs: list[dict[str, Any]]) -> None:
    pod = required({"matchExpressions": beta_exprs})
    result = checked(pod, BOTH)
    assert result.conflict is None and result.warnings == ()
    assert terms_of(apply(pod, result.ops))[0]["matchExpressions"][: len(beta_exprs)] == beta_exprs


def test_match_fields_only_term_gets_match_expressions() -> None:
    fields = [expr("metadata.name", "In", "node-1")]
    result = checked(required({"matchFields": fields}), {LINUX_ARM64})
    new = [in_os("linux"), in_arch("arm64")]
    assert result.ops == (("add", term_path(0, "matchExpressions"), new),)
    for empty in ([], None):
        pod = required({"matchFields": fields, "matchExpressions": empty})
        replaced = checked(pod, {LINUX_ARM64})
        assert replaced.ops == (("replace", term_path(0, "matchExpressions"), new),)
        assert terms_of(apply(pod, replaced.ops)) == [{"matchFields": fields, "matchExpressions": new}]


@pytest.mark.parametrize(
    "empty", [{}, None, {"matchExpressions": []}, {"matchExpressions": None, "matchFields": []}]
)
def test_empty_terms_are_left_alone_and_not_viable(empty: Any) -> None:
    pod = required(empty, {"matchExpressions": [expr("zone", "In", "a")]})
    result = checked(pod, {LINUX_ARM64})
    assert result.ops == (
        ("add", term_path(1, "matchExpressions", "-"), in_os("linux")),
        ("add", term_path(1, "matchExpressions", "-"), in_arch("arm64")),
    )
    assert terms_of(apply(pod, result.ops))[0] == empty
    alone = checked(required(copy.deepcopy(empty)), {LINUX_ARM64})
    assert alone.ops == ()
    assert alone.conflict == (
        "required node affinity admits no platform the images support (linux/arm64): "
        "term 0 is empty and matches no node"
    )


def test_term_split_per_os_group_rewrites_all_terms() -> None:
    zone = {"matchExpressions": [expr("zone", "In", "a")]}
    dead = {"matchExpressions": [in_arch("s390x")]}
    named = {"matchFields": [expr("metadata.name", "In", "n1")], "matchExpressions": [in_os("linux")]}
    pod = required(zone, {}, dead, named)
    result = checked(pod, {WINDOWS_AMD64, LINUX_ARM64})
    assert result.admitted == {WINDOWS_AMD64, LINUX_ARM64}
    expected = [
        {"matchExpressions": [expr("zone", "In", "a"), in_os("linux"), in_arch("arm64")]},
        {"matchExpressions": [expr("zone", "In", "a"), in_os("windows"), in_arch("amd64")]},
        {},
        {"matchFields": named["matchFields"], "matchExpressions": [in_os("linux"), in_arch("arm64")]},
    ]
    assert result.ops == (("replace", TERMS, expected),)
    assert len(result.warnings) == 1 and result.warnings[0].startswith(
        "dropped required node affinity term 2 "
    )


# -- malformed input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pod", "field"),
    [
        ({"affinity": "linux"}, "affinity"),
        ({"affinity": {"nodeAffinity": []}}, "affinity.nodeAffinity"),
        ({"nodeSelector": ["kubernetes.io/arch=amd64"]}, "nodeSelector"),
        (
            {"affinity": {"nodeAffinity": {REQUIRED: {"nodeSelectorTerms": {"matchExpressions": []}}}}},
            ".".join(TERMS),
        ),
        (required("term"), ".".join(TERMS) + "[0]"),
        (required({"matchExpressions": "zone"}), ".".join(TERMS) + "[0].matchExpressions"),
        (required({"matchExpressions": ["zone"]}), ".".join(TERMS) + "[0].matchExpressions[0]"),
        (
            required({"matchFields": [{"key": "metadata.name", "operator": "In", "values": "a"}]}),
            ".".join(TERMS) + "[0].matchFields[0].values",
        ),
        (
            required({"matchExpressions": [{"key": ARCH, "operator": "In", "values": "arm64"}]}),
            ".".join(TERMS) + "[0].matchExpressions[0].values",
        ),
    ],
)
def test_malformed_input_raises_affinity_error(pod: dict[str, Any], field: str) -> None:
    with pytest.raises(AffinityError) as error:
        plan(pod, BOTH)
    assert error.value.field == field
    assert re.fullmatch(
        rf"{re.escape(field)} is an? (string|list|mapping), not an? (list|mapping)", str(error.value)
    )


# Terms the scheduler cannot parse (component-helpers nodeaffinity, labels.NewRequirement) match
# no node: pin never edits one into a term that matches; it drops it with a warning, as it drops
# terms that admit no platform, and when no term is left it is a conflict.
INVALID_REQUIREMENTS = {
    "a value that is not a label value": expr(ARCH, "In", "amd64", "bad value!"),
    "NotIn an invalid value": expr(ARCH, "NotIn", "-bad"),
    "Exists with values": expr(ARCH, "Exists", "amd64"),
    "an unknown operator": expr(ARCH, "Equals", "arm64"),
    "no key": {"operator": "In", "values": ["a"]},
    "a key that is not a qualified name": expr("a/b/c", "In", "x"),
    "Gt without an integer": expr("example.com/gen", "Gt", "two"),
    "In without values": {"key": ARCH, "operator": "In"},
    "a field with two values": {"key": "metadata.name", "operator": "In", "values": ["a", "b"]},
}


@pytest.mark.parametrize("bad", list(INVALID_REQUIREMENTS.values()), ids=list(INVALID_REQUIREMENTS))
def test_a_term_the_scheduler_cannot_parse_is_dropped_never_repaired(bad: dict[str, Any]) -> None:
    key = "matchFields" if bad.get("key") == "metadata.name" else "matchExpressions"
    pod = required({key: [bad]}, {"matchExpressions": [expr("zone", "In", "a")]})
    result = plan(pod, frozenset({LINUX_AMD64}))
    assert result.conflict is None
    assert result.ops == (
        ("remove", term_path(0)),
        ("add", term_path(1, "matchExpressions", "-"), in_os("linux")),
        ("add", term_path(1, "matchExpressions", "-"), in_arch("amd64")),
    )
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith(
        "dropped required node affinity term 0: the scheduler cannot parse it ("
        f"{'.'.join(TERMS)}[0].{key}[0]: "
    )
    assert result.warnings[0].endswith("), so it matches no node")


@pytest.mark.parametrize("bad", list(INVALID_REQUIREMENTS.values()), ids=list(INVALID_REQUIREMENTS))
def test_only_terms_the_scheduler_cannot_parse_is_a_conflict(bad: dict[str, Any]) -> None:
    key = "matchFields" if bad.get("key") == "metadata.name" else "matchExpressions"
    result = plan(required({key: [in_os("linux"), bad] if key == "matchExpressions" else [bad]}), BOTH)
    assert result.ops == () and result.admitted == frozenset()
    assert result.conflict is not None
    assert result.conflict.startswith(
        "required node affinity admits no platform the images support (linux/amd64, linux/arm64): "
        "term 0 matches no node (the scheduler cannot parse it: "
    )


def test_the_tester_s_invalid_terms_stay_dead() -> None:
    """In [amd64, "bad value!"] never becomes In [amd64]; NotIn ["-bad"] never In [amd64]."""
    for bad in (expr(ARCH, "In", "amd64", "bad value!"), expr(ARCH, "NotIn", "-bad")):
        result = plan(required({"matchExpressions": [bad]}), frozenset({LINUX_AMD64}))
        assert result.conflict is not None and result.ops == ()


# -- apply -----------------------------------------------------------------------------------------


def test_apply_uses_original_indices_and_copies() -> None:
    pod = {"a": [{"v": [0, 1, 2, 3]}, "x", "y"], "m": {"k": 1}}
    before = copy.deepcopy(pod)
    value = {"new": [1]}
    ops = (
        ("remove", ("a", 0, "v", 1)),
        ("remove", ("a", 0, "v", 3)),
        ("remove", ("a", 1)),
        ("add", ("a", 0, "v", "-"), 9),
        ("replace", ("a", 2), "z"),
        ("add", ("m", "n"), value),
        ("replace", ("m", "k"), 2),
    )
    result = apply(pod, ops)
    assert result == {"a": [{"v": [0, 2, 9]}, "z"], "m": {"k": 2, "n": {"new": [1]}}}
    assert pod == before
    value["new"].append(2)
    assert result["m"]["n"] == {"new": [1]}


def test_apply_refuses_to_add_an_existing_key_and_unknown_operations() -> None:
    with pytest.raises(ValueError, match="already exists"):
        apply({"m": {"k": 1}}, [("add", ("m", "k"), 2)])
    with pytest.raises(ValueError, match="unknown operation"):
        apply({"m": {}}, [("move", ("m", "k"))])


def test_apply_of_a_plan_produces_what_the_scheduler_needs() -> None:
    pod = required(
        {"matchExpressions": [expr(ARCH, "NotIn", "s390x"), expr("zone", "In", "a")]},
        {"matchExpressions": [in_arch("s390x")]},
        nodeSelector={OS: "linux"},
        tolerations=[{"key": "dedicated", "operator": "Exists"}],
    )
    result = checked(pod, BOTH)
    patched = apply(pod, result.ops)
    assert patched == required(
        {"matchExpressions": [in_arch("amd64", "arm64"), expr("zone", "In", "a")]},
        nodeSelector={OS: "linux"},
        tolerations=[{"key": "dedicated", "operator": "Exists"}],
    )
    for arch in ("amd64", "arm64", "s390x"):
        node = {OS: "linux", ARCH: arch, "zone": "a"}
        assert pod_matches_node(patched, node, "n") is (arch != "s390x")
