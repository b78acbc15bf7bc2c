"""The per-platform summary of NodeInfo records behind ``kubectl arch nodes``."""

from __future__ import annotations

from kubectl_arch.cluster import inventory, quantity
from kubectl_arch.cluster.nodeinfo import NO_POOL, NodeInfo, Taint

ARM = Taint("kubernetes.io/arch", "arm64", "NoSchedule")


def node(
    name: str,
    os: str,
    arch: str,
    *,
    ready: bool = True,
    cordoned: bool = False,
    taints: tuple = (),
    pool: str = NO_POOL,
    cpu: str | None = "2",
    memory: str | None = "4Gi",
) -> NodeInfo:
    return NodeInfo(
        name, os, arch, ready, cordoned, taints,
        quantity.parse(cpu) if cpu else None, quantity.parse(memory) if memory else None, pool, {},
    )  # fmt: skip


def test_counts_and_sums() -> None:
    inv = inventory.summarize(
        [
            node("a", "linux", "amd64", pool="p1", cpu="3920m", memory="16283140Ki"),
            node(
                "b",
                "linux",
                "amd64",
                pool="p1",
                cordoned=True,
                taints=(Taint("node.kubernetes.io/unschedulable", "", "NoSchedule"),),
            ),
            node("c", "linux", "amd64", pool="p2", ready=False, cpu=None),
            node("d", "linux", "arm64", pool="arm", taints=(ARM,)),
        ]
    )
    document = inventory.to_json(inv)
    amd64, arm64 = document["platforms"]
    assert (amd64["nodes"], amd64["ready"], amd64["schedulable"], amd64["tainted"]) == (3, 2, 1, 1)
    assert amd64["pools"] == {"p1": 2, "p2": 1}
    assert amd64["allocatable"] == {"cpu": "5920m", "memory": "24671748Ki"}  # 16283140Ki + 2 x 4Gi
    assert arm64["taints"] == [
        {"key": "kubernetes.io/arch", "value": "arm64", "effect": "NoSchedule", "nodes": 1}
    ]
    assert (document["nodes"], document["mixed"]) == (4, True)
    assert inventory.build_platforms(inv) == "linux/amd64,linux/arm64"


def test_platforms_without_ready_nodes_are_not_built_for() -> None:
    inv = inventory.summarize([node("a", "linux", "amd64"), node("b", "linux", "arm64", ready=False)])
    assert (inv.mixed, inventory.build_platforms(inv)) == (False, "linux/amd64")
    assert [p.name for p in inv.platforms] == ["linux/amd64", "linux/arm64"]


def test_unknown_platforms_are_listed_but_never_built_for() -> None:
    inv = inventory.summarize([node("a", "linux", ""), node("b", "", "")], ["node a: ..."])
    assert [p.name for p in inv.platforms] == ["unknown/unknown", "linux/unknown"]
    assert inventory.build_platforms(inv) == ""
    assert inv.warnings == ("node a: ...",)
    assert inventory.to_json(inv)["platforms"][1]["architecture"] == ""


def test_thirty_two_bit_arm_gets_a_variant_note_when_ready() -> None:
    assert inventory.summarize([node("pi", "linux", "arm", ready=False)]).warnings == ()
    (note,) = inventory.summarize([node("pi", "linux", "arm")]).warnings
    assert note.startswith("linux/arm nodes carry no CPU variant label")


def test_empty_cluster() -> None:
    assert inventory.to_json(inventory.summarize([])) == {
        "nodes": 0,
        "mixed": False,
        "platforms": [],
        "warnings": [],
    }
