"""``kubectl arch check`` of a real application against a 5,000-node cluster: wall time.

The microservices-demo release stream (``../shared/corpus/microservices-demo/release``,
12 Deployments and 13 images) with every image reference moved to a local registry (the
Debian ``docker-registry``, ``tests/registry_util.py``) where each is an index of
linux/amd64 and linux/arm64, checked against the test API server (``tests/apiserver.py``)
serving 5,000 nodes cloned from the recorded ones, in pages of 500. Reported: the wall time
of a cold run (empty cache: every image looked up) and of a warm one (each tag asked again
with one HEAD, manifests and configs from the cache), with ``kubectl get nodes -o json`` on
the same server for scale. No goal: the figure is reported.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

import benchlib as b

sys.path.insert(0, str(b.TESTS))
from registry_util import LINUX_AMD64, LINUX_ARM64, client_for, push_multiarch, start_registry

NODES = 5000
RELEASE = (
    b.REPO_ROOT.parent / "shared" / "corpus" / "microservices-demo" / "release" / "kubernetes-manifests.yaml"
)
IMAGE = re.compile(r"^(\s*image:\s*)(\S+)", re.M)


def local_reference(host: str, image: str) -> str:
    """``us-central1-docker.pkg.dev/x/y/app:v1`` -> ``HOST/x/y/app:v1`` (digests dropped)."""
    image = image.split("@", 1)[0]
    first = image.split("/", 1)[0]
    path = image.split("/", 1)[1] if "/" in image and ("." in first or ":" in first) else image
    if "/" not in path:
        path = f"library/{path}"
    return f"{host}/{path}"


def main() -> None:
    args = b.parser(__doc__.splitlines()[0], runs=5)
    args.add_argument("--nodes", type=int, default=NODES, help=f"nodes in the cluster (default {NODES})")
    opts = args.parse_args()
    arch = b.require("kubectl-arch")
    kubectl = b.require("kubectl")
    b.require_corpus("check", RELEASE)
    with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
        home = Path(tmp)
        registry = start_registry(home / "registry")
        try:
            client = client_for(registry)
            text = RELEASE.read_text()
            images = sorted({m.group(2) for m in IMAGE.finditer(text)})
            for image in images:
                push_multiarch(client, local_reference(registry.host, image), [LINUX_AMD64, LINUX_ARM64])
            manifest = home / "app.yaml"
            manifest.write_text(
                IMAGE.sub(lambda m: m.group(1) + local_reference(registry.host, m.group(2)), text)
            )

            with b.node_server(home, opts.nodes) as env:
                cold_env = {**env, "XDG_CACHE_HOME": str(home / "cold-cache")}
                warm_env = {**env, "XDG_CACHE_HOME": str(home / "warm-cache")}
                command = [arch, "check", "-f", str(manifest), "-o", "json"]
                document = json.loads(b.check_output(command, env=warm_env))
                checked = len(document["workloads"])
                baseline = b.Series("kubectl get nodes -o json", [kubectl, "get", "nodes", "-o", "json"], env)
                warm = b.Series("kubectl-arch check (warm cache)", command, warm_env)
                fresh = ["sh", "-c", 'rm -rf "$XDG_CACHE_HOME"; exec "$@"', "sh", *command]
                cold = b.Series("kubectl-arch check (cold cache)", fresh, cold_env)
                b.interleave([baseline, warm, cold], opts.runs, opts.warmup)
        finally:
            registry.stop()
    fits = sum(1 for w in document["workloads"] if w["fits"])
    print(
        f"input: {RELEASE.name} ({checked} workloads, {len(images)} images pushed as linux/amd64+arm64 "
        f"indexes to a local registry); cluster: {opts.nodes} nodes in pages of 500 over TLS; "
        f"{fits}/{checked} workloads fit\n"
    )
    b.print_table([baseline, warm, cold])
    print(
        f"\ncheck: cold {b.ms(cold.wall)} (ratio {cold.wall / baseline.wall:.2f}), warm {b.ms(warm.wall)} "
        f"(ratio {warm.wall / baseline.wall:.2f}) against kubectl get nodes -o json alone "
        f"({b.ms(baseline.wall)}), no goal REPORTED"
    )


if __name__ == "__main__":
    b.main_wrapper(main)
