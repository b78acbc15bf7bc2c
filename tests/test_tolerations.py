"""Tolerations for platform taints: Kubernetes' matching rules, exact plans, and properties
(idempotent; existing tolerations kept as they are; only taints of admitted platforms)."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_arch import affinity, tolerations
from kubectl_arch.cluster.nodeinfo import NodeInfo, Taint
from kubectl_arch.tolerations import ArchTaints

ARM = Taint("kubernetes.io/arch", "arm64", "NoSchedule")
WIN = Taint("node.kubernetes.io/os", "windows", "NoSchedule")
ARM_TOLERATION = {"key": "kubernetes.io/arch", "operator": "Equal", "value": "arm64", "effect": "NoSchedule"}


# -- parsing ----------------------------------------------------------------------------------


def test_parse_taints() -> None:
    assert tolerations.parse_taint("kubernetes.io/arch=arm64:NoSchedule") == ARM
    assert tolerations.parse_taint("dedicated:NoExecute") == Taint("dedicated", "", "NoExecute")
    assert tolerations.parse_arch_taint("node.kubernetes.io/os=windows:NoSchedule") == WIN


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "kubernetes.io/arch=arm64",
            "invalid taint 'kubernetes.io/arch=arm64': expected KEY[=VALUE]:EFFECT, e.g. kubernetes.io/arch=arm64:NoSchedule",
        ),
        (
            "kubernetes.io/arch=arm64:NoShedule",
            "invalid taint 'kubernetes.io/arch=arm64:NoShedule': effect must be one of NoSchedule, PreferNoSchedule, NoExecute",
        ),
        ("=arm64:NoSchedule", "invalid taint '=arm64:NoSchedule': empty key"),
        (
            "arch=arm64:NoSchedule",
            "invalid arch taint 'arch=arm64:NoSchedule': the key must be one of kubernetes.io/arch, beta.kubernetes.io/arch, kubernetes.io/os, beta.kubernetes.io/os, node.kubernetes.io/os",
        ),
        (
            "kubernetes.io/os:NoSchedule",
            "invalid arch taint 'kubernetes.io/os:NoSchedule': give the value it has on the nodes, e.g. kubernetes.io/os=windows:NoSchedule",
        ),
    ],
)
def test_bad_arch_taints(text: str, message: str) -> None:
    with pytest.raises(tolerations.TaintError) as caught:
        tolerations.parse_arch_taint(text)
    assert str(caught.value) == message


# -- Kubernetes' ToleratesTaint ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("toleration", "tolerated"),
    [
        ({"key": "kubernetes.io/arch", "operator": "Exists"}, True),
        ({"key": "kubernetes.io/arch", "operator": "Exists", "effect": "NoSchedule"}, True),
        ({"key": "kubernetes.io/arch", "operator": "Exists", "effect": "NoExecute"}, False),
        ({"operator": "Exists"}, True),  # empty key with Exists: every taint
        ({"key": "", "operator": "Exists", "effect": "NoSchedule"}, True),
        ({"key": "kubernetes.io/arch", "operator": "Equal", "value": "arm64"}, True),
        ({"key": "kubernetes.io/arch", "value": "arm64"}, True),  # no operator means Equal
        ({"key": "kubernetes.io/arch", "operator": "Equal", "value": "amd64"}, False),
        ({"key": "kubernetes.io/arch", "operator": "Equal"}, False),  # value "" != "arm64"
        ({"key": "kubernetes.io/os", "operator": "Exists"}, False),
        ({"key": "kubernetes.io/arch", "operator": "Gt", "value": "arm64"}, False),
        ({"key": "kubernetes.io/arch", "operator": "Exists", "tolerationSeconds": 30}, True),
    ],
)
def test_tolerates(toleration: dict[str, Any], tolerated: bool) -> None:
    assert tolerations.tolerates(toleration, ARM) is tolerated


# -- plans ------------------------------------------------------------------------------------

FOUND = ArchTaints({("linux", "arm64"): frozenset({ARM}), ("windows", "amd64"): frozenset({WIN})})


def test_adds_the_tolerations_key_when_absent() -> None:
    pod = {"containers": [{"name": "a", "image": "x"}]}
    plan = tolerations.plan(pod, {("linux", "amd64"), ("linux", "arm64")}, FOUND)
    assert plan.ops == (("add", ("tolerations",), [ARM_TOLERATION]),)


@pytest.mark.parametrize("empty", [None, []])
def test_replaces_a_null_or_empty_list(empty: Any) -> None:
    plan = tolerations.plan({"tolerations": empty}, {("linux", "arm64")}, FOUND)
    assert plan.ops == (("replace", ("tolerations",), [ARM_TOLERATION]),)


def test_appends_to_an_existing_list() -> None:
    pod = {
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "shop", "effect": "NoSchedule"}]
    }
    plan = tolerations.plan(pod, {("linux", "arm64"), ("windows", "amd64")}, FOUND)
    windows = {
        "key": "node.kubernetes.io/os",
        "operator": "Equal",
        "value": "windows",
        "effect": "NoSchedule",
    }
    assert plan.ops == (("add", ("tolerations", "-"), ARM_TOLERATION), ("add", ("tolerations", "-"), windows))


@pytest.mark.parametrize(
    "existing",
    [
        {"key": "kubernetes.io/arch", "operator": "Exists"},
        {"operator": "Exists"},
        {"key": "kubernetes.io/arch", "operator": "Equal", "value": "arm64", "effect": "NoSchedule"},
        {"key": "kubernetes.io/arch", "value": "arm64"},
    ],
)
def test_an_existing_toleration_is_enough(existing: dict[str, Any]) -> None:
    assert tolerations.plan({"tolerations": [existing]}, {("linux", "arm64")}, FOUND).ops == ()


def test_nothing_for_platforms_the_pod_cannot_run_on() -> None:
    assert tolerations.plan({}, {("linux", "amd64")}, FOUND).ops == ()
    declared = ArchTaints({}, (ARM, WIN))
    assert tolerations.plan({}, {("linux", "amd64")}, declared).ops == ()
    assert tolerations.plan({}, {("linux", "arm64")}, declared).added == (ARM_TOLERATION,)


def test_value_less_taints_get_an_exact_toleration() -> None:
    taint = Taint("kubernetes.io/arch", "", "NoExecute")
    plan = tolerations.plan({}, {("linux", "arm64")}, ArchTaints({("linux", "arm64"): frozenset({taint})}))
    added = plan.added[0]
    assert added == {"key": "kubernetes.io/arch", "operator": "Equal", "value": "", "effect": "NoExecute"}
    assert tolerations.tolerates(added, taint)
    assert not tolerations.tolerates(added, Taint("kubernetes.io/arch", "amd64", "NoExecute"))


@pytest.mark.parametrize(
    ("pod", "field"),
    [({"tolerations": "all"}, "tolerations"), ({"tolerations": [{"key": "a"}, "b"]}, "tolerations[1]")],
)
def test_malformed_tolerations(pod: dict[str, Any], field: str) -> None:
    with pytest.raises(tolerations.TolerationError) as caught:
        tolerations.plan(pod, {("linux", "arm64")}, FOUND)
    assert caught.value.field == field


def test_found_on_ready_nodes_only() -> None:
    def node(name: str, platform: tuple[str, str], ready: bool, *taints: Taint) -> NodeInfo:
        return NodeInfo(name, *platform, ready, False, taints, None, None, "pool", {})

    found = tolerations.found_on(
        [
            node("a", ("linux", "arm64"), True, ARM, Taint("dedicated", "x", "NoSchedule")),
            node("b", ("linux", "amd64"), False, Taint("kubernetes.io/arch", "amd64", "NoSchedule")),
            node("c", ("windows", "amd64"), True, WIN),
        ]
    )
    assert found == {("linux", "arm64"): frozenset({ARM}), ("windows", "amd64"): frozenset({WIN})}


# -- properties -------------------------------------------------------------------------------

PLATFORMS = [("linux", "amd64"), ("linux", "arm64"), ("linux", "arm"), ("windows", "amd64")]
KEYS = ["kubernetes.io/arch", "kubernetes.io/os", "node.kubernetes.io/os", "dedicated"]
VALUES = ["", "arm64", "amd64", "arm", "windows", "linux"]
EFFECTS = ["NoSchedule", "NoExecute"]

taints = st.builds(Taint, st.sampled_from(KEYS[:3]), st.sampled_from(VALUES), st.sampled_from(EFFECTS))
arch_taints = st.builds(
    ArchTaints,
    st.dictionaries(st.sampled_from(PLATFORMS), st.frozensets(taints, max_size=3), max_size=4),
    st.lists(
        st.builds(
            Taint,
            st.sampled_from(["kubernetes.io/arch", "node.kubernetes.io/os"]),
            st.sampled_from(VALUES[1:]),
            st.sampled_from(EFFECTS),
        ),
        max_size=3,
    ).map(tuple),
)
existing_tolerations = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "key": st.sampled_from(["", *KEYS]),
            "operator": st.sampled_from(["Exists", "Equal"]),
            "value": st.sampled_from(VALUES),
            "effect": st.sampled_from(["", *EFFECTS]),
            "tolerationSeconds": st.integers(0, 300),
        },
    ),
    max_size=4,
)
pod_specs = st.one_of(
    st.just({}),
    st.just({"tolerations": None}),
    existing_tolerations.map(lambda ts: {"tolerations": ts}),
)
admitted_sets = st.frozensets(st.sampled_from(PLATFORMS), min_size=1)


@settings(max_examples=400)
@given(pod_specs, admitted_sets, arch_taints)
def test_properties(pod: dict[str, Any], admitted: frozenset, taints_: ArchTaints) -> None:
    before = copy.deepcopy(pod)
    plan = tolerations.plan(pod, admitted, taints_)
    assert pod == before  # pure
    after = affinity.apply(pod, plan.ops)
    original = list(pod.get("tolerations") or [])
    result = list(after.get("tolerations") or [])

    # idempotent
    assert tolerations.plan(after, admitted, taints_).ops == ()
    # never removes, reorders or changes an existing toleration
    assert result[: len(original)] == original
    assert all(op[0] == "add" or (op[0] == "replace" and not pod.get("tolerations")) for op in plan.ops)
    # every taint of an admitted platform is tolerated afterwards
    wanted = taints_.for_platforms(admitted)
    assert all(any(tolerations.tolerates(t, taint) for t in result) for taint in wanted)
    # each added toleration is exactly one taint of an admitted platform, needed before
    added = result[len(original) :]
    assert tuple(added) == plan.added
    for toleration in added:
        matched = [t for t in wanted if tolerations.tolerates(toleration, t)]
        assert len(matched) == 1
        assert not any(tolerations.tolerates(t, matched[0]) for t in original)
    # taints no admitted platform carries are tolerated afterwards only if they were before
    others = {
        t for p in PLATFORMS for t in taints_.for_platforms([p]) if p not in admitted and t not in wanted
    }
    for taint in others:
        if any(tolerations.tolerates(t, taint) for t in result):
            assert any(tolerations.tolerates(t, taint) for t in original)


def test_declared_taints_belong_to_the_platforms_they_name() -> None:
    declared = ArchTaints({}, (ARM, WIN, Taint("kubernetes.io/os", "linux", "NoExecute")))
    for platform in itertools.chain(PLATFORMS, [("linux", "s390x")]):
        names = {t.value for t in declared.for_platforms([platform])}
        assert names == {v for v in ("arm64", "windows", "linux") if v in platform}
