"""Throughput of ``kubectl-arch pin`` on Argo CD's install.yaml, against ``kubectl kustomize``.

The baseline is Kustomize applying the same node affinity to every Deployment and StatefulSet
of the file through JSON6902 patches (generated at run time). Goal: pin's median wall time at
most half of Kustomize's.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import benchlib as b
import yaml
from pinned import count_pinned, load_all, workloads

GOAL = 0.5
PLATFORMS = "linux/amd64,linux/arm64"
NODE_AFFINITY: dict[str, Any] = {
    "requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [
            {
                "matchExpressions": [
                    {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                    {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]},
                ]
            }
        ]
    }
}


def kustomization(docs: list[dict[str, Any]], resource: str) -> str:
    """A kustomization that adds NODE_AFFINITY to every Deployment and StatefulSet."""
    patches = []
    for doc in workloads(docs):
        pod = doc["spec"]["template"]["spec"]
        ops: list[dict[str, Any]] = []
        if "affinity" not in pod:
            ops.append({"op": "add", "path": "/spec/template/spec/affinity", "value": {}})
        elif "nodeAffinity" in pod["affinity"]:
            raise b.BenchError(f"{doc['kind']}/{doc['metadata']['name']} already has a nodeAffinity")
        ops.append({"op": "add", "path": "/spec/template/spec/affinity/nodeAffinity", "value": NODE_AFFINITY})
        target = {"kind": doc["kind"], "name": doc["metadata"]["name"]}
        patches.append({"target": target, "patch": yaml.safe_dump(ops, sort_keys=False)})
    body = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [resource],
        "patches": patches,
    }
    return yaml.safe_dump(body, sort_keys=False, width=1000)


def main() -> None:
    opts = b.parser(__doc__.splitlines()[0], runs=11).parse_args()
    arch = b.require("kubectl-arch")
    kubectl = b.require("kubectl")
    source = b.require_corpus("throughput", b.ARGO_INSTALL)
    docs = load_all(source.read_bytes())
    expected = len(workloads(docs))
    if count_pinned(source.read_bytes()) != 0:
        raise b.BenchError(f"{source}: some workloads are pinned already; the check would prove nothing")

    with tempfile.TemporaryDirectory(prefix="bench-kustomize-") as tmp:
        tmpdir = Path(tmp)
        shutil.copyfile(source, tmpdir / "install.yaml")
        (tmpdir / "kustomization.yaml").write_text(kustomization(docs, "install.yaml"))

        baseline = b.Series("kubectl kustomize DIR", [kubectl, "kustomize", str(tmpdir)])
        subject = b.Series(
            f"kubectl-arch pin --platform {PLATFORMS} -f install.yaml",
            [arch, "pin", "--platform", PLATFORMS, "-f", str(source)],
        )
        for s in (baseline, subject):
            got = count_pinned(b.check_output(s.argv))
            if got != expected:
                raise b.BenchError(f"{s.label}: {got} pinned workloads, expected {expected}")
        print(f"input: {source} ({source.stat().st_size / 1e6:.2f} MB, {len(docs)} documents)")
        print(f"both outputs verified: {expected} Deployments/StatefulSets carry the node affinity\n")
        b.interleave([baseline, subject], opts.runs, opts.warmup)
    b.print_table([baseline, subject])
    print()
    print(b.goal_line("throughput", subject, baseline, GOAL))


if __name__ == "__main__":
    b.main_wrapper(main)
