"""Reading a 5,000-node cluster: ``kubectl-arch nodes -o json`` against ``kubectl get nodes -o json``.

Both read the same test API server (``tests/apiserver.py``, TLS and a bearer token, started
in this process) serving 5,000 nodes cloned from the recorded ones in ``testdata/nodes/`` in
pages of 500 (kubectl's default ``--chunk-size``, and kubectl-arch's page size). Goal: median
wall time of kubectl-arch at most half of kubectl's. Peak memory (max RSS) of both is
reported. kubectl's discovery cache lives in a private HOME and is warm after the warm-up
runs, as it is for a user.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from pathlib import Path

import benchlib as b

GOAL = 0.5
NODES = 5000


def check(kubectl: str, arch: str, env: dict[str, str], count: int) -> int:
    """Both commands saw every node; returns the size of the nodes' JSON."""
    listed = json.loads(b.check_output([kubectl, "get", "nodes", "-o", "json"], env=env))
    if len(listed["items"]) != count:
        raise b.BenchError(f"kubectl listed {len(listed['items'])} nodes, not {count}")
    ours = json.loads(b.check_output([arch, "nodes", "-o", "json"], env=env))
    if ours["nodes"] != count or sum(p["nodes"] for p in ours["platforms"]) != count:
        raise b.BenchError(f"kubectl-arch counted {ours['nodes']} nodes, not {count}")
    return len(json.dumps(listed["items"], separators=(",", ":")))


def main() -> None:
    args = b.parser(__doc__.splitlines()[0], runs=9)
    args.add_argument("--nodes", type=int, default=NODES, help=f"nodes in the cluster (default {NODES})")
    opts = args.parse_args()
    arch = b.require("kubectl-arch")
    kubectl = b.require("kubectl")
    with (
        tempfile.TemporaryDirectory(prefix="bench-nodes-") as tmp,
        b.node_server(Path(tmp), opts.nodes) as env,
    ):
        baseline = b.Series("kubectl get nodes -o json", [kubectl, "get", "nodes", "-o", "json"], env)
        subject = b.Series("kubectl-arch nodes -o json", [arch, "nodes", "-o", "json"], env)
        floor = b.Series("(floor) python -c pass", [sys.executable, "-c", "pass"], env)
        # Timed first: a child's peak memory (maxrss) starts from this process's own peak,
        # which reading the outputs below would raise.
        b.interleave([baseline, subject, floor], opts.runs, opts.warmup)
        size = check(kubectl, arch, env, opts.nodes)
    print(
        f"cluster: {opts.nodes} nodes ({size / 1e6:.1f} MB of JSON), read in pages of 500 "
        f"({math.ceil(opts.nodes / 500)} requests per listing) over TLS from tests/apiserver.py\n"
    )
    b.print_table([baseline, subject, floor])
    print(
        f"\npeak memory (max RSS): kubectl {baseline.rss / 1024:.0f} MiB, "
        f"kubectl-arch {subject.rss / 1024:.0f} MiB "
        f"(floor: {floor.rss / 1024:.0f} MiB, this script's own peak, which every child starts from)"
    )
    print(
        f"memory: ratio {subject.rss / baseline.rss:.2f} "
        f"({subject.rss / 1024:.0f} MiB / {baseline.rss / 1024:.0f} MiB) reported, no goal"
    )
    print(b.goal_line("nodes", subject, baseline, GOAL))


if __name__ == "__main__":
    b.main_wrapper(main)
