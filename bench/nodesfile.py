"""``check --nodes-file`` on a 5,000-node kubectl dump against ``nodes`` reading them from the API server.

The test API server (``tests/apiserver.py``, TLS and a bearer token, run as a process of its
own) serves 5,000 nodes cloned from the recorded ones in ``testdata/nodes/``; ``kubectl get
nodes -o json`` writes them to a file, the dump a CI job without cluster access would keep.
Baseline: ``kubectl-arch nodes -o json`` listing them from the server (pages of 500).
Subject: ``kubectl-arch check -f bench/data/deployment.yaml --platform linux/amd64,linux/arm64
--nodes-file DUMP -o json``, which reads the dump and fits the workload to every node. Goal:
median wall time of the subject at most 1.5 times the baseline's. Peak memory is reported.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import benchlib as b

GOAL = 1.5
NODES = 5000
RECORDED = (*b.RECORDED_NODES, b.REPO_ROOT / "testdata" / "nodes" / "aks-windows.json")
MANIFEST = b.REPO_ROOT / "bench" / "data" / "deployment.yaml"


def main() -> None:
    args = b.parser(__doc__.splitlines()[0], runs=9)
    args.add_argument("--nodes", type=int, default=NODES, help=f"nodes in the cluster (default {NODES})")
    opts = args.parse_args()
    arch = b.require("kubectl-arch")
    kubectl = b.require("kubectl")
    with tempfile.TemporaryDirectory(prefix="bench-nodesfile-") as tmp:
        with b.node_server(Path(tmp), opts.nodes, RECORDED) as env:
            dump = Path(tmp) / "nodes.json"
            dump.write_bytes(b.check_output([kubectl, "get", "nodes", "-o", "json"], env=env))
            check = [arch, "check", "-f", str(MANIFEST), "--platform", "linux/amd64,linux/arm64"]
            check += ["--nodes-file", str(dump), "-o", "json"]
            listed = json.loads(b.check_output([arch, "nodes", "-o", "json"], env=env))
            checked = json.loads(b.check_output(check, env=env))
            if listed["nodes"] != opts.nodes or checked["cluster"]["nodes"] != opts.nodes:
                raise b.BenchError(f"counted {listed['nodes']} and {checked['cluster']['nodes']} nodes")
            baseline = b.Series("kubectl-arch nodes -o json (API server)", [arch, "nodes", "-o", "json"], env)
            subject = b.Series("kubectl-arch check --nodes-file DUMP", check, env)
            b.interleave([baseline, subject], opts.runs, opts.warmup)
        size = dump.stat().st_size
    fitting = checked["workloads"][0]["fittingNodes"]
    print(
        f"cluster: {opts.nodes} nodes; dump written by kubectl get nodes -o json ({size / 1e6:.1f} MB); "
        f"the workload fits {fitting} of them\n"
    )
    b.print_table([baseline, subject])
    print(
        f"\npeak memory (max RSS): nodes {baseline.rss / 1024:.0f} MiB, check --nodes-file "
        f"{subject.rss / 1024:.0f} MiB"
    )
    print(b.goal_line("nodes file", subject, baseline, GOAL))


if __name__ == "__main__":
    b.main_wrapper(main)
