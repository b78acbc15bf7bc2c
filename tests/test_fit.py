"""Which Ready nodes a pod fits, and why not: against the scheduler model, on the recorded
GKE-style cluster, and together with pin (a pinned, tolerating pod fits exactly the
schedulable nodes of its images' platforms)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scheduler import pod_matches_node
from test_affinity_properties import NODES, pod_specs

from kubectl_arch import affinity, fit, tolerations
from kubectl_arch.cluster import nodeinfo
from kubectl_arch.cluster.nodeinfo import NodeInfo, Taint
from kubectl_arch.platforms import Platform, parse

ARM_TAINT = "kubernetes.io/arch=arm64:NoSchedule"
WIN_TAINT = "node.kubernetes.io/os=windows:NoSchedule"
ARM_TOLERATION = {"key": "kubernetes.io/arch", "operator": "Equal", "value": "arm64", "effect": "NoSchedule"}
WIN_TOLERATION = {"key": "node.kubernetes.io/os", "operator": "Exists", "effect": "NoSchedule"}


def images(**per_image: str) -> dict[str, frozenset[Platform]]:
    return {
        image: frozenset(parse(p) for p in platforms.split(",")) for image, platforms in per_image.items()
    }


@pytest.fixture(scope="module")
def cluster(gke_nodes: list) -> list[NodeInfo]:
    return [nodeinfo.from_object(n, []) for n in gke_nodes]


# -- the recorded cluster ---------------------------------------------------------------------


def test_multi_arch_images_without_tolerations(cluster: list[NodeInfo]) -> None:
    result = fit.fit({}, images(nginx="linux/amd64,linux/arm64"), cluster)
    assert result.nodes == (
        "gke-shop-prod-default-pool-3f6a1c2e-7d2k",
        "gke-shop-prod-default-pool-3f6a1c2e-m4lp",
        "gke-shop-prod-highmem-pool-51c0e9aa-b81z",
        "gke-shop-prod-highmem-pool-51c0e9aa-c2hw",
    )
    assert result.platforms == {("linux", "amd64")}
    # the Windows nodes' taint keeps the pod off them before their platform would
    assert result.explain() == (
        "4/10 nodes fit: 1 node(s) not Ready, 1 node(s) cordoned, "
        f"2 node(s) with untolerated taint {ARM_TAINT}, "
        f"2 node(s) with untolerated taint {WIN_TAINT}"
    )


def test_arm64_only_images_need_the_arm_toleration(cluster: list[NodeInfo]) -> None:
    arm = images(**{"registry.example.com/api:2": "linux/arm64", "redis:7": "linux/amd64,linux/arm64"})
    result = fit.fit({}, arm, cluster)
    assert not result.fits
    assert result.reasons == (fit.NOT_READY, fit.CORDONED, fit.UNTOLERATED_TAINT, fit.IMAGE_PLATFORMS)
    assert result.explain() == (
        "0/10 nodes fit: 1 node(s) not Ready, 1 node(s) cordoned, "
        f"2 node(s) with untolerated taint {ARM_TAINT}, "
        f"2 node(s) with untolerated taint {WIN_TAINT}, "
        "4 node(s) run linux/amd64, which image registry.example.com/api:2 cannot run on"
    )
    tolerated = fit.fit({"tolerations": [ARM_TOLERATION]}, arm, cluster)
    assert tolerated.nodes == ("gke-shop-prod-arm-pool-a9e4d771-0f3r", "gke-shop-prod-arm-pool-a9e4d771-5vzx")


def test_node_selector_and_affinity(cluster: list[NodeInfo]) -> None:
    amd = images(app="linux/amd64")
    result = fit.fit({"nodeSelector": {"kubernetes.io/arch": "arm64"}}, amd, cluster)
    assert (result.fits, result.reasons) == (
        False,
        (fit.NOT_READY, fit.CORDONED, fit.UNTOLERATED_TAINT, fit.NODE_SELECTOR),
    )
    pool = {
        "affinity": {
            "nodeAffinity": {
                fit.REQUIRED: {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "cloud.google.com/gke-nodepool",
                                    "operator": "In",
                                    "values": ["highmem-pool"],
                                }
                            ]
                        }
                    ]
                }
            }
        }
    }
    result = fit.fit(pool, amd, cluster)
    assert len(result.nodes) == 2
    assert str(result.rejections[-1]) == "2 node(s) not matching the required node affinity"


def test_windows_and_cordoned_nodes(cluster: list[NodeInfo]) -> None:
    windows = images(iis="windows/amd64")
    assert (
        fit.fit({}, windows, cluster)
        .explain()
        .endswith(
            f"2 node(s) with untolerated taint {WIN_TAINT}, 4 node(s) run linux/amd64, which image iis cannot run on"
        )
    )
    assert len(fit.fit({"tolerations": [WIN_TOLERATION]}, windows, cluster).nodes) == 2
    drain_proof = {"tolerations": [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists"}]}
    assert len(fit.fit(drain_proof, images(app="linux/amd64"), cluster).nodes) == 5


CLUSTER_PLATFORMS = [("linux", "amd64"), ("linux", "arm64"), ("windows", "amd64")]
EXISTING = [
    {},
    {"nodeSelector": {"kubernetes.io/os": "linux"}},
    {"tolerations": [{"key": "dedicated", "operator": "Exists"}]},
    {
        "affinity": {
            "nodeAffinity": {
                fit.REQUIRED: {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": "kubernetes.io/arch", "operator": "NotIn", "values": ["s390x"]}
                            ]
                        }
                    ]
                }
            }
        }
    },
]


@pytest.mark.parametrize("pod", EXISTING)
@pytest.mark.parametrize(
    "supported",
    [set(c) for n in (1, 2, 3) for c in itertools.combinations(CLUSTER_PLATFORMS, n)],
    ids=lambda s: "+".join(f"{o}/{a}" for o, a in sorted(s)),
)
def test_pinned_and_tolerating_pods_fit_the_schedulable_nodes_of_their_platforms(
    cluster: list[NodeInfo], pod: dict[str, Any], supported: set[tuple[str, str]]
) -> None:
    """pin --cluster --tolerate-arch-taints, then fit: nothing else stands in the way."""
    bound = supported & {n.platform for n in cluster if n.ready}
    plan = affinity.plan(pod, bound)
    if plan.conflict:  # the nodeSelector rules out every supported platform
        assert "nodeSelector" in pod
        return
    taints = tolerations.ArchTaints(tolerations.found_on(cluster))
    extra = tolerations.plan(pod, plan.admitted, taints)
    pinned = affinity.apply(pod, plan.ops + extra.ops)
    image_platforms = images(app=",".join(f"{o}/{a}" for o, a in sorted(supported)))
    expected = [n.name for n in cluster if n.schedulable and n.platform in plan.admitted]
    assert fit.fit(pinned, image_platforms, cluster).nodes == tuple(expected)


# -- against the scheduler model --------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(pod_specs())
def test_node_affinity_matches_the_scheduler_model(pod: dict[str, Any]) -> None:
    rules = fit.placement(pod)
    for labels, name, _ in NODES:
        expected = pod_matches_node(pod, labels, name)
        assert rules.matches(labels, name) is expected
    labels, name, _ = NODES[0]
    assert (fit.selector_matches(pod, labels) and fit.affinity_matches(pod, labels, name)) is rules.matches(
        labels, name
    )


def _expected_rejection(
    node: NodeInfo, pod: dict[str, Any], supported: dict[str, frozenset[tuple[str, str]]]
) -> str | None:
    """Written out from the module's documented filter order, with the scheduler model."""
    tolerated = pod.get("tolerations") or []
    if not node.ready:
        return fit.NOT_READY
    if node.cordoned and not any(tolerations.tolerates(t, fit.UNSCHEDULABLE_TAINT) for t in tolerated):
        return fit.CORDONED
    if any(not any(tolerations.tolerates(t, taint) for t in tolerated) for taint in node.taints):
        return fit.UNTOLERATED_TAINT
    if not pod_matches_node({"nodeSelector": pod.get("nodeSelector")}, node.labels, node.name):
        return fit.NODE_SELECTOR
    if not pod_matches_node({"affinity": pod.get("affinity")}, node.labels, node.name):
        return fit.AFFINITY
    if any(node.platform not in nodes for nodes in supported.values()):
        return fit.IMAGE_PLATFORMS
    return None


TAINTS = [
    Taint("kubernetes.io/arch", "arm64", "NoSchedule"),
    Taint("dedicated", "", "NoExecute"),
    Taint("node.kubernetes.io/unschedulable", "", "NoSchedule"),
]
TOLERATIONS = [
    {"key": "kubernetes.io/arch", "operator": "Exists"},
    {"key": "kubernetes.io/arch", "operator": "Equal", "value": "amd64", "effect": "NoSchedule"},
    {"key": "dedicated", "operator": "Exists", "effect": "NoExecute"},
    {"operator": "Exists"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists"},
]


@st.composite
def node_infos(draw: st.DrawFn) -> NodeInfo:
    labels, name, platform = draw(st.sampled_from(NODES))
    return NodeInfo(
        name,
        *platform,
        ready=draw(st.booleans()),
        cordoned=draw(st.booleans()),
        taints=tuple(draw(st.lists(st.sampled_from(TAINTS), max_size=2, unique=True))),
        cpu=None,
        memory=None,
        pool="p",
        labels=labels,
    )


@settings(max_examples=300, deadline=None)
@given(
    pod_specs(),
    st.lists(st.sampled_from(TOLERATIONS), max_size=3),
    st.dictionaries(
        st.sampled_from(["a", "b"]),
        st.frozensets(
            st.sampled_from(["linux/amd64", "linux/arm64", "windows/amd64", "linux/s390x"]), min_size=1
        ),
        min_size=1,
    ),
    st.lists(node_infos(), max_size=8),
)
def test_fit_filters_in_order(
    pod: dict[str, Any],
    extra: list[dict[str, Any]],
    image_platforms: dict[str, Iterable[str]],
    nodes: list[NodeInfo],
) -> None:
    pod = {**pod, "tolerations": list(pod.get("tolerations") or []) + extra}
    supported = {i: frozenset(parse(p) for p in ps) for i, ps in image_platforms.items()}
    result = fit.fit(pod, supported, nodes)
    node_sets = {i: frozenset(p.node for p in ps) for i, ps in supported.items()}
    expected = [(n, _expected_rejection(n, pod, node_sets)) for n in nodes]
    assert result.nodes == tuple(n.name for n, why in expected if why is None)
    assert result.total == len(nodes)
    counted: dict[str, int] = {}
    for rejection in result.rejections:
        counted[rejection.reason] = counted.get(rejection.reason, 0) + rejection.nodes
    wanted: dict[str, int] = {}
    for _, why in expected:
        if why is not None:
            wanted[why] = wanted.get(why, 0) + 1
    assert counted == wanted
    assert list(result.reasons) == [r for r in fit.REASONS if r in wanted]


def test_every_taint_must_be_tolerated() -> None:
    node = NodeInfo("n", "linux", "arm64", True, False, (TAINTS[0], TAINTS[1]), None, None, "p", {})
    tolerated = fit.fit({"tolerations": [TOLERATIONS[0]]}, images(app="linux/arm64"), [node])
    assert tolerated.explain() == "0/1 nodes fit: 1 node(s) with untolerated taint dedicated:NoExecute"
    both = fit.fit({"tolerations": [TOLERATIONS[0], TOLERATIONS[2]]}, images(app="linux/arm64"), [node])
    assert both.nodes == ("n",)


@pytest.mark.parametrize(
    ("operator", "values", "label", "matches"),
    [
        ("In", [], "a", False),
        ("NotIn", [], None, False),  # invalid: In and NotIn need values
        ("NotIn", ["a"], None, True),
        ("Exists", ["a"], "a", False),  # invalid: Exists takes no values
        ("DoesNotExist", [], None, True),
        ("Gt", ["2"], "3", True),
        ("Gt", ["2", "1"], "3", False),
        ("Lt", ["x"], "1", False),
        ("Lt", ["5"], "+4", True),
        ("Near", ["a"], "a", False),
    ],
)
def test_requirements(operator: str, values: list[str], label: str | None, matches: bool) -> None:
    assert fit.requirement_matches(operator, values, label) is matches


def test_a_windows_image_fits_only_the_hosts_of_its_build() -> None:
    """An image that supports only 10.0.17763 (ltsc2019), nodes win2019 (10.0.17763) and
    win2022 (10.0.20348): one node fits, and pin admits only that build."""

    def windows_node(name: str, build: str) -> NodeInfo:
        labels = {
            "kubernetes.io/os": "windows",
            "kubernetes.io/arch": "amd64",
            "node.kubernetes.io/windows-build": build,
        }
        return NodeInfo(name, "windows", "amd64", True, False, (), None, None, "p", labels, build)

    nodes = [windows_node("win2019", "10.0.17763"), windows_node("win2022", "10.0.20348")]
    ltsc2019 = {"iis": [Platform("windows", "amd64", "", "10.0.17763.5458")]}
    result = fit.fit({}, ltsc2019, nodes)
    assert result.nodes == ("win2019",)
    assert (
        result.explain()
        == "1/2 nodes fit: 1 node(s) run windows(10.0.20348)/amd64, which image iis cannot run on"
    )
    builds = {("windows", "amd64"): frozenset({"10.0.17763"})}
    pinned = affinity.apply({}, affinity.plan({}, {("windows", "amd64")}, builds).ops)
    assert fit.fit(pinned, {"iis": [Platform("windows", "amd64")]}, nodes).nodes == ("win2019",)
