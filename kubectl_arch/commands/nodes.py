"""``kubectl arch nodes``: what the cluster's nodes are made of, per platform."""

from __future__ import annotations

import json
import sys

import click

from .. import log
from ..cluster import client as cluster
from ..cluster import inventory
from ..cluster import quantity as q
from ..errors import EXIT_OK, ConflictError
from ..table import render
from .clusteropts import cluster_options

HELP = """Summarize the cluster's node platforms and what to build for.

One row per platform (os/architecture, from the nodes' kubernetes.io/os and
kubernetes.io/arch labels): nodes, Ready nodes, schedulable nodes (Ready and not
cordoned), nodes carrying a NoSchedule or NoExecute taint, allocatable CPU and memory, and
node pools; then whether the cluster is single-platform or mixed, and the platforms to
build for (those with Ready nodes).

\b
Output (-o): table (default), wide (adds a row per pool, Windows builds and taints), json,
yaml, platforms (only the platforms to build for, comma-separated).

\b
Examples:
  kubectl arch nodes
  kubectl arch nodes -o wide -l cloud.google.com/gke-nodepool
  docker buildx build --platform "$(kubectl arch nodes -o platforms)" -t app:1 .
  kubectl arch pin --platform "$(kubectl arch nodes -o platforms)" -f deploy.yaml
"""

EPILOG = (
    "Exit codes: 0 done; 1 -o platforms found no Ready node; 2 usage error; 3 kubeconfig, "
    "API server or permission failure (listing nodes needs RBAC permission to list nodes)."
)
OUTPUTS = ("table", "wide", "json", "yaml", "platforms")
HEADERS = ("PLATFORM", "NODES", "READY", "SCHEDULABLE", "TAINTED", "CPU", "MEMORY")


def _numbers(counts: inventory.Counts) -> list[str]:
    return [
        str(counts.nodes),
        str(counts.ready),
        str(counts.schedulable),
        str(counts.tainted),
        q.human_cpu(counts.cpu),
        q.human_bytes(counts.memory),
    ]


def _taints(counts: inventory.Counts) -> str:
    return ",".join(str(taint) for taint, _ in counts.taints) or "<none>"


def _builds(counts: inventory.Counts) -> str:
    return ",".join(build for build, _ in counts.builds) or "<none>"


def table(inv: inventory.Inventory, wide: bool) -> str:
    if wide:
        headers = ("PLATFORM", "POOL", *HEADERS[1:], "WINDOWS BUILDS", "TAINTS")
        rows = []
        for p in inv.platforms:
            rows.append([p.name, "*", *_numbers(p.counts), _builds(p.counts), _taints(p.counts)])
            rows.extend(
                [p.name, pool, *_numbers(counts), _builds(counts), _taints(counts)]
                for pool, counts in p.pools
            )
    else:
        headers = (*HEADERS, "POOLS")
        rows = [[p.name, *_numbers(p.counts), ",".join(pool for pool, _ in p.pools)] for p in inv.platforms]
    from ..safetext import printable

    return render(headers, rows) + "\n" + printable(verdict(inv)) + "\n"


def verdict(inv: inventory.Inventory) -> str:
    ready = inv.ready_platforms
    build = inventory.build_platforms(inv)
    if not ready:
        return "no Ready nodes: nothing to build for"
    if len(ready) == 1:
        return f"single-platform cluster: build for {build}"
    return f"mixed cluster: {len(ready)} platforms have Ready nodes; build for {build}"


@click.command(
    name="nodes", help=HELP, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "-o",
    "--output",
    type=click.Choice(OUTPUTS),
    default="table",
    show_default=True,
    help="Output format.",
)
@cluster_options
@log.verbose_option
def command(
    output: str,
    kubeconfig: str | None,
    context: str | None,
    selector: str | None,
    request_timeout: str | None,
) -> int:
    listing = cluster.read_nodes(cluster.Options(kubeconfig, context, selector, request_timeout))
    inv = inventory.summarize(listing.nodes, listing.warnings)
    if output in ("json", "yaml"):
        document = inventory.to_json(inv)
        if output == "json":
            sys.stdout.write(json.dumps(document, indent=2) + "\n")
        else:
            from ..manifest.yamledit import Style, block_lines

            sys.stdout.write("".join(line + "\n" for line in block_lines(document, 0, Style())))
        return EXIT_OK
    from ..safetext import printable

    for warning in inv.warnings:
        click.echo(printable(f"warning: {warning}"), err=True)
    if output == "platforms":
        build = inventory.build_platforms(inv)
        if not build:
            where = f" matching {selector!r}" if selector else ""
            raise ConflictError(
                f"no Ready nodes{where} ({inv.nodes} node(s) found): no platform to build for"
            )
        sys.stdout.write(printable(build) + "\n")
        return EXIT_OK
    if not inv.nodes:
        click.echo("No nodes found." if not selector else f"No nodes match {selector!r}.", err=True)
        return EXIT_OK
    sys.stdout.write(table(inv, wide=output == "wide"))
    return EXIT_OK
