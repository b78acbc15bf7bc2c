"""What a cluster is made of, per platform: a pure summary of :class:`NodeInfo` records.

:func:`summarize` counts nodes, Ready nodes, schedulable nodes (Ready and not cordoned) and
tainted nodes (carrying a NoSchedule or NoExecute taint) per platform and per pool, lists the
taints and the Windows builds (``node.kubernetes.io/windows-build``), and sums allocatable
CPU and memory with Kubernetes quantity semantics. :func:`to_json` is the ``nodes -o json``
contract (README.md, "Output contracts").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from . import quantity
from .nodeinfo import NodeInfo, Taint, format_platform

Platform = tuple[str, str]


class Counts(NamedTuple):
    nodes: int
    ready: int
    schedulable: int
    tainted: int
    cpu: quantity.Quantity
    memory: quantity.Quantity
    taints: tuple[tuple[Taint, int], ...]  # each distinct taint and how many nodes carry it
    builds: tuple[tuple[str, int], ...] = ()  # Windows builds (windows-build label) and their nodes


class PlatformSummary(NamedTuple):
    platform: Platform
    counts: Counts
    pools: tuple[tuple[str, Counts], ...]  # by pool name

    @property
    def name(self) -> str:
        return format_platform(self.platform)


class Inventory(NamedTuple):
    nodes: int
    platforms: tuple[PlatformSummary, ...]  # sorted by os, then architecture
    warnings: tuple[str, ...]

    @property
    def ready_platforms(self) -> tuple[Platform, ...]:
        """Platforms with at least one Ready node (of a known os and architecture): those to
        build for, and the bound ``pin --cluster`` applies."""
        return tuple(p.platform for p in self.platforms if p.counts.ready and all(p.platform))

    @property
    def mixed(self) -> bool:
        return len(self.ready_platforms) > 1


def _count(nodes: Sequence[NodeInfo]) -> Counts:
    taints: dict[Taint, int] = {}
    builds: dict[str, int] = {}
    for node in nodes:
        for taint in set(node.taints):
            taints[taint] = taints.get(taint, 0) + 1
        if node.windows_build:
            builds[node.windows_build] = builds.get(node.windows_build, 0) + 1
    return Counts(
        nodes=len(nodes),
        ready=sum(n.ready for n in nodes),
        schedulable=sum(n.schedulable for n in nodes),
        tainted=sum(bool(n.taints) for n in nodes),
        cpu=quantity.total((n.cpu for n in nodes if n.cpu is not None), quantity.DECIMAL_SI),
        memory=quantity.total((n.memory for n in nodes if n.memory is not None), quantity.BINARY_SI),
        taints=tuple(sorted(taints.items())),
        builds=tuple(sorted(builds.items())),
    )


def _variant_note(platform: Platform) -> str | None:
    if platform[1] != "arm":
        return None
    return (
        f"{format_platform(platform)} nodes carry no CPU variant label: images built for "
        f"{format_platform(platform)} default to v7; build {format_platform(platform)}/v6 if some "
        "nodes are ARMv6"
    )


def summarize(nodes: Iterable[NodeInfo], warnings: Iterable[str] = ()) -> Inventory:
    by_platform: dict[Platform, list[NodeInfo]] = {}
    count = 0
    for node in nodes:
        by_platform.setdefault(node.platform, []).append(node)
        count += 1
    summaries = []
    notes = list(warnings)
    for platform in sorted(by_platform):
        members = by_platform[platform]
        pools: dict[str, list[NodeInfo]] = {}
        for node in members:
            pools.setdefault(node.pool, []).append(node)
        summaries.append(
            PlatformSummary(
                platform, _count(members), tuple((name, _count(pools[name])) for name in sorted(pools))
            )
        )
        note = _variant_note(platform)
        if note is not None and any(n.ready for n in members):
            notes.append(note)
    return Inventory(count, tuple(summaries), tuple(notes))


def build_platforms(inventory: Inventory) -> str:
    """The platforms to build for, as ``--platform`` takes them: ``linux/amd64,linux/arm64``."""
    return ",".join(format_platform(p) for p in inventory.ready_platforms)


def to_json(inventory: Inventory) -> dict[str, Any]:
    """The ``kubectl arch nodes -o json`` document."""
    return {
        "nodes": inventory.nodes,
        "mixed": inventory.mixed,
        "platforms": [
            {
                "platform": p.name,
                "os": p.platform[0],
                "architecture": p.platform[1],
                "nodes": p.counts.nodes,
                "ready": p.counts.ready,
                "schedulable": p.counts.schedulable,
                "tainted": p.counts.tainted,
                "taints": [
                    {"key": t.key, "value": t.value, "effect": t.effect, "nodes": n}
                    for t, n in p.counts.taints
                ],
                "pools": {name: counts.nodes for name, counts in p.pools},
                "windowsBuilds": dict(p.counts.builds),
                "allocatable": {
                    "cpu": quantity.canonical(p.counts.cpu),
                    "memory": quantity.canonical(p.counts.memory),
                },
            }
            for p in inventory.platforms
        ],
        "warnings": list(inventory.warnings),
    }
