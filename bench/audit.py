"""Auditing a cluster: ``kubectl-arch audit -A -o json`` against the shell pipeline people use
today, ``kubectl get deploy,sts,ds,job,cronjob,pod -A -o json``, the distinct images pulled out
with ``jq``, then ``skopeo inspect --raw`` once per distinct image.

The cluster: the test API server (``tests/apiserver.py``, TLS and a bearer token, a process
of its own) serving 500 nodes cloned from the recorded ones and 2,000 workloads over 300
distinct images: 1,400 Deployments (a ReplicaSet and 2 pods each), 300 StatefulSets (2 pods),
10 DaemonSets (a pod on each node), 150 Jobs (a finished pod), 100 CronJobs (a Job and its
pod) and 40 bare Pods, about 9,000 pods in all. The registry: the Debian ``docker-registry``
with token authentication behind a proxy that adds 50 ms to every request (as in
``bench/registry.py``); two images in three are indexes of linux/amd64 and linux/arm64, the
others amd64 only. Every audit run starts with an empty cache.

Goal: median wall time of the audit at most a tenth of the pipeline's, in the same run. Peak
memory (max RSS) of both is reported, and the time of ``audit -A -o json --target
linux/arm64`` (which also lists tags and looks newer ones up) for information.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib as b

sys.path.insert(0, str(b.REPO_ROOT / "tests"))

GOAL = 0.1
NODES = 500
IMAGES = 300
TS = "2026-11-20T10:00:00Z"


def _meta(name: str, ns: str, uid: str, labels: dict[str, str], owner: dict[str, Any] | None = None) -> dict:
    out: dict[str, Any] = {
        "name": name,
        "namespace": ns,
        "uid": uid,
        "resourceVersion": "1",
        "creationTimestamp": TS,
        "labels": labels,
    }
    if owner is not None:
        out["ownerReferences"] = [
            {
                "apiVersion": owner["apiVersion"],
                "kind": owner["kind"],
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    return out


def _spec(image: str, **extra: Any) -> dict[str, Any]:
    container = {
        "name": "app",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "PORT", "value": "8080"}],
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    spec = {
        "containers": [container],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "default",
        "securityContext": {},
        "schedulerName": "default-scheduler",
    }
    spec.update(extra)
    return spec


def cluster(node_names: list[str], images: list[str]) -> list[dict[str, Any]]:
    """The workloads, their ReplicaSets and Jobs, and their pods."""
    objects: list[dict[str, Any]] = []
    counter = iter(range(10**9))

    def uid() -> str:
        return f"00000000-0000-4000-8000-{next(counter):012d}"

    def pod(name: str, ns: str, labels: dict, owner: dict | None, spec: dict, node: str, phase: str) -> None:
        body = dict(spec, nodeName=node)
        image = spec["containers"][0]["image"]
        digest = "sha256:" + f"{abs(hash(image)):064x}"[-64:]
        status = {
            "phase": phase,
            "hostIP": "10.0.0.1",
            "podIP": "10.1.0.1",
            "startTime": TS,
            "qosClass": "Burstable",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": TS}],
            "containerStatuses": [
                {
                    "name": "app",
                    "image": image,
                    "imageID": f"{image.rsplit(':', 1)[0]}@{digest}",
                    "containerID": "containerd://" + "ab" * 32,
                    "ready": True,
                    "restartCount": 0,
                    "started": True,
                    "state": {"running": {"startedAt": TS}},
                }
            ],
        }
        metadata = _meta(name, ns, uid(), labels, owner)
        objects.append(
            {"kind": "Pod", "apiVersion": "v1", "metadata": metadata, "spec": body, "status": status}
        )

    def controller(kind: str, api: str, name: str, ns: str, spec: dict, owner: dict | None = None) -> dict:
        obj = {"kind": kind, "apiVersion": api, "metadata": _meta(name, ns, uid(), {"app": name}, owner)}
        obj.update(spec)
        objects.append(obj)
        return obj

    n = 0
    nodes = iter(range(10**9))

    def node() -> str:
        return node_names[next(nodes) % len(node_names)]

    def image() -> str:
        return images[n % len(images)]

    def template(name: str, **extra: Any) -> dict:
        return {"metadata": {"labels": {"app": name}}, "spec": _spec(image(), **extra)}

    for i in range(1400):
        ns, name = f"team-{i % 40:02d}", f"svc-{i:04d}"
        tpl = template(name)
        deploy = controller("Deployment", "apps/v1", name, ns, {"spec": {"replicas": 2, "template": tpl}})
        replicas = {"spec": {"replicas": 2, "template": tpl}}
        rs = controller("ReplicaSet", "apps/v1", f"{name}-6d4cf56db6", ns, replicas, deploy)
        for r in range(2):
            pod(f"{name}-6d4cf56db6-{r:05d}", ns, {"app": name}, rs, tpl["spec"], node(), "Running")
        n += 1
    for i in range(300):
        ns, name = f"data-{i % 10:02d}", f"db-{i:04d}"
        tpl = template(name)
        sts = controller("StatefulSet", "apps/v1", name, ns, {"spec": {"replicas": 2, "template": tpl}})
        for r in range(2):
            pod(f"{name}-{r}", ns, {"app": name}, sts, tpl["spec"], node(), "Running")
        n += 1
    for i in range(10):
        name = f"agent-{i:02d}"
        tpl = template(name, nodeSelector={"kubernetes.io/os": "linux"})
        ds = controller("DaemonSet", "apps/v1", name, "kube-system", {"spec": {"template": tpl}})
        for j, node_name in enumerate(node_names):
            pod(f"{name}-{j:05d}", "kube-system", {"app": name}, ds, tpl["spec"], node_name, "Running")
        n += 1
    for i in range(150):
        ns, name = f"batch-{i % 5}", f"task-{i:04d}"
        tpl = template(name, restartPolicy="Never")
        job = controller("Job", "batch/v1", name, ns, {"spec": {"template": tpl}})
        pod(f"{name}-x7k2p", ns, {"app": name}, job, tpl["spec"], node(), "Succeeded")
        n += 1
    for i in range(100):
        ns, name = f"batch-{i % 5}", f"cron-{i:04d}"
        tpl = template(name, restartPolicy="OnFailure")
        cron = controller("CronJob", "batch/v1", name, ns, {"spec": {"schedule": "0 * * * *",
                          "jobTemplate": {"spec": {"template": tpl}}}})  # fmt: skip
        job = controller("Job", "batch/v1", f"{name}-29409540", ns, {"spec": {"template": tpl}}, cron)
        pod(f"{name}-29409540-4fz7d", ns, {"app": name}, job, tpl["spec"], node(), "Running")
        n += 1
    for i in range(40):
        tpl = template(f"debug-{i:02d}")
        pod(f"debug-{i:02d}", "default", {"run": "debug"}, None, tpl["spec"], node(), "Running")
        n += 1
    return objects


def write(path: Path, images_file: Path) -> None:
    """The objects of the cluster (``--write OBJECTS IMAGES``); prints how many."""
    from apiserver import load_nodes, replicate

    names = [n["metadata"]["name"] for n in replicate(load_nodes(*b.RECORDED_NODES), NODES)]
    objects = cluster(names, json.loads(images_file.read_text()))
    path.write_text(json.dumps({"kind": "List", "apiVersion": "v1", "items": objects}))
    print(json.dumps({"objects": len(objects), "pods": sum(1 for o in objects if o["kind"] == "Pod")}))


def main() -> None:
    if sys.argv[1:2] == ["--write"]:
        write(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    args = b.parser(__doc__.splitlines()[0], runs=3)
    opts = args.parse_args()
    arch = b.require("kubectl-arch")
    kubectl = b.require("kubectl")
    skopeo = b.require("skopeo")
    jq = b.require("jq")
    bash = b.require("bash")
    if not os.access("/usr/bin/docker-registry", os.X_OK):
        raise b.BenchError("/usr/bin/docker-registry is missing (Debian package docker-registry)")
    import registry_util as ru
    from registry import LatencyProxy

    from kubectl_arch.registry.auth import Credential

    work = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    proxy = LatencyProxy(ru.free_port())
    registry = ru.start_registry(
        work / "registry", auth="token", realm=f"http://127.0.0.1:{proxy.port}/token"
    )
    try:
        assert registry.issuer is not None
        proxy.routes.update(registry=registry.port, token=registry.issuer.port)
        client = ru.client_for(registry, credentials=Credential(ru.USER, ru.PASSWORD))
        start = time.perf_counter()
        images = []
        for i in range(IMAGES):
            name = f"apps/image-{i:03d}:1.{i % 7}"
            if i % 3:
                ru.push_multiarch(client, f"{registry.host}/{name}", [ru.LINUX_AMD64, ru.LINUX_ARM64])
            else:
                ru.push_image(client, f"{registry.host}/{name}", ru.LINUX_AMD64)
            images.append(f"127.0.0.1:{proxy.port}/{name}")
        print(f"pushed {IMAGES} images in {time.perf_counter() - start:.1f} s")
        # Written by a child process: on Linux a child's peak memory (maxrss) starts from this
        # process's own, which holding the objects would raise.
        listing = work / "objects.json"
        (work / "images.json").write_text(json.dumps(images))
        counts = json.loads(
            b.check_output([sys.executable, __file__, "--write", str(listing), str(work / "images.json")])
        )
        print(f"cluster: {NODES} nodes, {counts['objects']} objects ({counts['pods']} pods, 2000 workloads), "
              f"{listing.stat().st_size / 1e6:.1f} MB of JSON")  # fmt: skip
        home = work / "home"
        home.mkdir()
        with b.node_server(home, NODES, objects=listing) as cluster_env:
            env = dict(ru.arch_env(work), **cluster_env)
            pipeline = work / "pipeline.sh"
            pipeline.write_text(
                "set -euo pipefail\n"
                f"{kubectl} get deploy,sts,ds,job,cronjob,pod -A -o json "
                f"| {jq} -r '.items[] "
                "| (.spec.template.spec // .spec.jobTemplate.spec.template.spec // .spec) "
                "| (.initContainers // []) + .containers | .[].image' | sort -u "
                f'| while read -r image; do {skopeo} inspect --raw --tls-verify=false "docker://$image" '
                ">/dev/null; done\n"
            )
            baseline = b.Series("kubectl get ... -o json | jq | skopeo inspect --raw (each image)",
                                [bash, str(pipeline)], env)  # fmt: skip
            subject = b.Series("kubectl-arch audit -A -o json", [arch, "audit", "-A", "-o", "json"], env)
            floor = b.Series("(floor) python -c pass", [sys.executable, "-c", "pass"], env)
            targeted = b.Series(
                "kubectl-arch audit -A -o json --target linux/arm64",
                [arch, "audit", "-A", "-o", "json", "--target", "linux/arm64"],
                env,
            )
            # Check first: the audit sees every workload and every image.
            env_check = dict(env, XDG_CACHE_HOME=str(work / "cache-check"))
            checked = subprocess.run(
                [arch, "audit", "-A", "-o", "json"],
                env=env_check,
                capture_output=True,
                text=True,
                check=False,
            )
            if checked.returncode not in (0, 1):
                raise b.BenchError(f"audit failed (exit {checked.returncode}):\n{checked.stderr}")
            proc = json.loads(checked.stdout)
            summary = proc["summary"]
            if summary["workloads"] != 2000:
                raise b.BenchError(f"the audit found {summary['workloads']} workloads, not 2000")
            seen = {i["image"] for w in proc["workloads"] for i in w["images"]}
            if len(seen) != IMAGES:
                raise b.BenchError(f"the audit looked up {len(seen)} images, not {IMAGES}")
            print(f"audit: {summary['text']}")
            for round_ in range(opts.runs):
                order = [subject, targeted, baseline, floor]
                order = order if round_ % 2 == 0 else order[::-1]
                for series in order:
                    cache = work / f"cache-{round_}-{id(series)}"
                    series.env = dict(env, XDG_CACHE_HOME=str(cache))  # a cold cache every run
                    ok = (0,) if series is baseline else (0, 1)  # 1: the audit found workloads at risk
                    series.samples.append(b.run_once(series.argv, env=series.env, ok=ok))
                    shutil.rmtree(cache, ignore_errors=True)
        print()
        b.print_table([baseline, subject, targeted, floor])
        print(
            f"\npeak memory (max RSS): pipeline {baseline.rss / 1024:.0f} MiB (its largest process), "
            f"audit {subject.rss / 1024:.0f} MiB, audit --target {targeted.rss / 1024:.0f} MiB "
            f"(floor: {floor.rss / 1024:.0f} MiB, this script's own peak, which every child starts from)"
        )
        print(f"audit memory: {subject.rss / 1024:.0f} MiB peak for {counts['objects']} objects REPORTED")
        ratio = statistics.median(s.wall for s in subject.samples) / statistics.median(
            s.wall for s in baseline.samples
        )
        print(
            f"audit: ratio {ratio:.3f} ({b.ms(subject.wall)} / {b.ms(baseline.wall)}) goal <= {GOAL:.2f} "
            f"{b.verdict(ratio <= GOAL)}"
        )
    finally:
        registry.stop()
        proxy.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    b.main_wrapper(main)
