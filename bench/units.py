"""Cost of pinning pods whose containers and placement live apart (an Argo Workflow's
templates), against pinning as many plain pod templates (Deployments).

The subject is one Workflow with N container templates, some taking the workflow's
nodeSelector and templateDefaults' affinity (merged under the template), one with a
podSpecPatch; the baseline is N Deployments with the same images. Both are generated at run
time. Goal: the Workflow's median wall time at most 1.5 times the Deployments'.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import benchlib as b

GOAL = 1.5
PODS = 5000


def workflow(pods: int) -> str:
    lines = [
        "apiVersion: argoproj.io/v1alpha1",
        "kind: Workflow",
        "metadata: {name: wide}",
        "spec:",
        "  nodeSelector: {pool: batch}",
        "  templateDefaults:",
        "    affinity: {podAntiAffinity: {}}",
        "  templates:",
    ]
    for i in range(pods):
        lines += [f"  - name: t{i}", "    container:", f"      image: registry.example/app{i % 50}:v1"]
        if i % 3 == 0:
            lines.append("    tolerations: [{key: dedicated, operator: Exists}]")
    return "\n".join(lines) + "\n"


def deployments(pods: int) -> str:
    docs = []
    for i in range(pods):
        docs.append(
            "apiVersion: apps/v1\nkind: Deployment\n"
            f"metadata: {{name: d{i}}}\nspec:\n  template:\n    spec:\n"
            f"      nodeSelector: {{pool: batch}}\n      containers:\n      - name: c\n"
            f"        image: registry.example/app{i % 50}:v1\n"
        )
    return "---\n".join(docs)


def main() -> None:
    opts = b.parser(__doc__.splitlines()[0], runs=7).parse_args()
    arch = b.require("kubectl-arch")
    with tempfile.TemporaryDirectory(prefix="bench-units-") as tmp:
        wf, deploy = Path(tmp) / "workflow.yaml", Path(tmp) / "deployments.yaml"
        wf.write_text(workflow(PODS))
        deploy.write_text(deployments(PODS))
        pin = [arch, "pin", "--platform", "linux/arm64", "-f"]
        baseline = b.Series(f"pin {PODS} Deployments", [*pin, str(deploy)])
        subject = b.Series(f"pin a Workflow of {PODS} templates", [*pin, str(wf)])
        for s in (baseline, subject):
            out = b.check_output(s.argv).decode()
            if out.count("- arm64") != PODS:
                raise b.BenchError(f"{s.label}: {out.count('- arm64')} pods pinned, expected {PODS}")
        print(f"both outputs verified: {PODS} pods pinned to linux/arm64\n")
        b.interleave([baseline, subject], opts.runs, opts.warmup)
    b.print_table([baseline, subject])
    print()
    print(b.goal_line("units", subject, baseline, GOAL))


if __name__ == "__main__":
    b.main_wrapper(main)
