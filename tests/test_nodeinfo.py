"""Node objects to NodeInfo records: platform sources, readiness, cordons, taints, pools."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubectl_arch.cluster import nodeinfo
from kubectl_arch.cluster.nodeinfo import Taint

ARM = Taint("kubernetes.io/arch", "arm64", "NoSchedule")
# name -> (os, arch, ready, cordoned, taints, pool, cpu, memory)
EXPECTED: dict[str, tuple[Any, ...]] = {
    "gke-shop-prod-default-pool-3f6a1c2e-7d2k": ("linux", "amd64", True, False, (), "default-pool", "3920m", "13364612Ki"),
    "gke-shop-prod-default-pool-3f6a1c2e-9qxn": (
        "linux", "amd64", True, True, (Taint("node.kubernetes.io/unschedulable", "", "NoSchedule"),),
        "default-pool", "3920m", "13364612Ki",
    ),
    "gke-shop-prod-highmem-pool-51c0e9aa-b81z": ("linux", "amd64", True, False, (), "highmem-pool", "7910m", "57829564Ki"),
    "gke-shop-prod-arm-pool-a9e4d771-0f3r": ("linux", "arm64", True, False, (ARM,), "arm-pool", "3920m", "13522232Ki"),
    "gke-shop-prod-arm-pool-a9e4d771-k8dd": (
        "linux", "arm64", False, False,
        (ARM, Taint("node.kubernetes.io/unreachable", "", "NoSchedule"), Taint("node.kubernetes.io/unreachable", "", "NoExecute")),
        "arm-pool", "3920m", "13522232Ki",
    ),
    "gke-shop-prod-win-pool-77ab02c4-wq1c": (
        "windows", "amd64", True, False, (Taint("node.kubernetes.io/os", "windows", "NoSchedule"),),
        "win-pool", "3920m", "12233444Ki",
    ),
    "ip-10-0-12-34.us-west-2.compute.internal": ("linux", "arm64", True, False, (), "graviton", "3920m", "15136204Ki"),
    "ip-10-0-40-2.us-west-2.compute.internal": ("linux", "amd64", True, False, (), "general", "7910m", "14826328Ki"),
    "aks-nodepool1-28413019-vmss000000": ("linux", "amd64", True, False, (), "nodepool1", "3860m", "12881428Ki"),
    "legacy-node-1": ("linux", "amd64", True, False, (), "<none>", "2", "7990604Ki"),
    "bare-metal-7": ("linux", "ppc64le", True, False, (), "<none>", "15", "128420016Ki"),
    "rpi-edge-3": (
        "linux", "arm", True, False, (Taint("edge.example.com/site", "store-0042", "NoSchedule"),),
        "k3s", "4", "944932Ki",
    ),
    "mislabelled-1": ("linux", "amd64", True, False, (), "m6g.large", "1930m", "7454684Ki"),
    "cp-1": (
        "linux", "amd64", True, False, (Taint("node-role.kubernetes.io/control-plane", "", "NoSchedule"),),
        "<none>", "2", "3927856Ki",
    ),
}  # fmt: skip


def _recorded(gke_nodes: list, assorted_nodes: list) -> dict[str, Any]:
    return {n["metadata"]["name"]: n for n in gke_nodes + assorted_nodes}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recorded_nodes(name: str, gke_nodes: list, assorted_nodes: list) -> None:
    warnings: list[str] = []
    info = nodeinfo.from_object(_recorded(gke_nodes, assorted_nodes)[name], warnings)
    got = (
        info.os,
        info.architecture,
        info.ready,
        info.cordoned,
        info.taints,
        info.pool,
        str(info.cpu),
        str(info.memory),
    )
    assert got == EXPECTED[name]
    assert info.schedulable == (info.ready and not info.cordoned)
    expected_warnings = (
        [
            "node mislabelled-1: label kubernetes.io/arch=amd64 disagrees with status.nodeInfo.architecture=arm64; using the label (what the scheduler matches)"
        ]
        if name == "mislabelled-1"
        else []
    )
    assert warnings == expected_warnings


def test_platform_sources_in_order(gke_nodes: list) -> None:
    node = copy.deepcopy(gke_nodes[0])
    labels = node["metadata"]["labels"]
    info = node["status"]["nodeInfo"]
    labels["beta.kubernetes.io/arch"] = "arm64"
    warnings: list[str] = []
    assert nodeinfo.from_object(node, warnings).architecture == "amd64"
    assert warnings == [
        f"node {node['metadata']['name']}: label beta.kubernetes.io/arch=arm64 disagrees with kubernetes.io/arch=amd64; using amd64"
    ]
    del labels["kubernetes.io/arch"], labels["beta.kubernetes.io/arch"]
    info["architecture"] = "s390x"
    assert nodeinfo.from_object(node, []).architecture == "s390x"
    del info["architecture"]
    warnings = []
    assert nodeinfo.from_object(node, warnings).platform == ("linux", "")
    assert warnings == [
        f"node {node['metadata']['name']}: no kubernetes.io/arch label and no status.nodeInfo.architecture; platform unknown"
    ]


def test_malformed_parts_are_tolerated() -> None:
    warnings: list[str] = []
    node = {
        "metadata": {"name": "odd", "labels": {"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}},
        "spec": {
            "taints": ["not-a-taint", {"key": "k", "effect": "PreferNoSchedule"}],
            "unschedulable": "yes",
        },
        "status": {"allocatable": {"cpu": "lots"}, "conditions": [{"type": "Ready", "status": "Unknown"}]},
    }
    info = nodeinfo.from_object(node, warnings)
    assert (info.ready, info.cordoned, info.taints, info.cpu, info.memory) == (False, False, (), None, None)
    assert warnings == ["node odd: status.allocatable.cpu 'lots' is not a quantity; not counted"]
    with pytest.raises(nodeinfo.NodeError):
        nodeinfo.from_object(["not", "a", "node"], warnings)


@pytest.mark.parametrize(
    ("labels", "pool"),
    [
        ({"cloud.google.com/gke-nodepool": "p", "node.kubernetes.io/instance-type": "e2"}, "p"),
        ({"eks.amazonaws.com/nodegroup": "ng", "karpenter.sh/nodepool": "k"}, "ng"),
        ({"agentpool": "ap"}, "ap"),
        ({"kubernetes.azure.com/agentpool": "ap2"}, "ap2"),
        ({"karpenter.sh/nodepool": "k", "node.kubernetes.io/instance-type": "m7g"}, "k"),
        ({"node.kubernetes.io/instance-type": "m7g"}, "m7g"),
        ({"beta.kubernetes.io/instance-type": "old"}, "old"),
        ({}, "<none>"),
    ],
)
def test_pools(labels: dict[str, str], pool: str) -> None:
    assert nodeinfo.pool_of(labels) == pool


def test_labels_that_are_not_strings_are_left_out_without_their_text() -> None:
    """No API server sends them; a hand-made file may: never a Python repr in a message."""
    warnings: list[str] = []
    node = {
        "kind": "Node",
        "metadata": {
            "name": "n1",
            "labels": {"kubernetes.io/os": ["linux", {"a": 1}], "zone": None, "x": "y"},
        },
        "status": {"nodeInfo": {"operatingSystem": "linux", "architecture": "amd64"}},
    }
    info = nodeinfo.from_object(node, warnings)
    assert info.labels == {"zone": "", "x": "y"}
    assert info.platform == ("linux", "amd64")
    assert warnings == ["node n1: 1 label(s) whose key or value is not a string left out"]
