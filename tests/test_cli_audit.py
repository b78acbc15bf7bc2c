"""``kubectl arch audit`` through the real entry point, against the suite's API server serving
recorded EKS-style nodes (2 amd64, 2 arm64, no taints) and workloads (testdata/cluster/
audit.json), and the real registry holding their images:

* shop/web: an unpinned Deployment of an amd64-only image (web:1.0) -> at-risk; web:1.1 adds
  arm64 (the update for --target linux/arm64), web:1.1-alpine is of another shape;
* shop/api: a Deployment whose ReplicaSet's pod is on an arm64 node, amd64-only image ->
  broken, attributed to the Deployment; the pod runs a digest api:2.3 no longer names;
* ops/node-exporter: a DaemonSet restricted to amd64 by nodeSelector -> ok;
* ops/report: CronJob -> Job -> Pod, one workload; its image has only a `latest` tag;
* shop/db: a StatefulSet whose image is not in the registry -> unknown;
* shop/checkout: an Argo Rollout (a custom group) -> ReplicaSet -> Pod;
* shop/debug: a bare Pod; shop/legacy: a ReplicationController.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from apiserver import ApiServer, load_nodes, load_objects
from cluster_util import KUBECTL_ARCH, REPO
from registry_util import (
    LINUX_AMD64,
    LINUX_ARM64,
    Populated,
    arch_env,
    client_for,
    push_image,
    push_multiarch,
)

EKS = REPO / "testdata" / "nodes" / "eks-mixed.json"
WORKLOADS = REPO / "testdata" / "cluster" / "audit.json"
AMD1, AMD2 = "ip-10-0-40-2.us-west-2.compute.internal", "ip-10-0-41-7.us-west-2.compute.internal"
ARM1 = "ip-10-0-12-34.us-west-2.compute.internal"
ROLLOUT = "Rollout.argoproj.io=spec.template.spec"


class Images:
    def __init__(self, registry: Populated) -> None:
        client = client_for(registry.registry)
        self.host = host = registry.registry.host
        push_image(client, f"{host}/audit/web:0.9", LINUX_AMD64)
        self.web = push_image(client, f"{host}/audit/web:1.0", LINUX_AMD64).digest
        self.web11 = push_multiarch(client, f"{host}/audit/web:1.1", [LINUX_AMD64, LINUX_ARM64]).digest
        push_multiarch(client, f"{host}/audit/web:1.2", [LINUX_AMD64, LINUX_ARM64])
        push_multiarch(client, f"{host}/audit/web:1.1-alpine", [LINUX_AMD64, LINUX_ARM64])
        self.api_old = push_image(client, f"{host}/audit/api:2.3", LINUX_AMD64).digest
        self.api = push_image(client, f"{host}/audit/api:2.3", LINUX_AMD64).digest  # the tag moves
        self.exporter = push_image(client, f"{host}/audit/exporter:1.7", LINUX_AMD64).digest
        self.report = push_image(client, f"{host}/audit/report:latest", LINUX_AMD64).digest
        self.multi = push_multiarch(client, f"{host}/audit/multi:3.1", [LINUX_AMD64, LINUX_ARM64]).digest

    def ref(self, name: str) -> str:
        return f"{self.host}/audit/{name}"

    def objects(self) -> list[dict[str, Any]]:
        return load_objects(WORKLOADS, REGISTRY=self.host, WEB_DIGEST=self.web, API_OLD_DIGEST=self.api_old)


@pytest.fixture(scope="module")
def images(populated_registry: Populated) -> Images:
    return Images(populated_registry)


@pytest.fixture
def server(images: Images) -> Any:
    with ApiServer(load_nodes(EKS), objects=images.objects()) as api:
        yield api


def audit(
    tmp_path: Path, server: ApiServer, *args: str, namespace: str | None = None
) -> subprocess.CompletedProcess[str]:
    config = server.kubeconfig(tmp_path / "kubeconfig", namespace=namespace)
    env = arch_env(tmp_path, KUBECONFIG=str(config))
    proc = subprocess.run(
        [str(KUBECTL_ARCH), "audit", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


# -- the expected document ----------------------------------------------------------------------


def image(
    images: Images, container: str, name: str, digest: str, platforms: list[str], stale: Any = ()
) -> Any:
    return {
        "container": container,
        "image": images.ref(name),
        "platforms": platforms,
        "digest": digest,
        "staleDigests": [{"digest": d, "pods": n} for d, n in stale],
    }


AMD = ["linux/amd64"]
BOTH = ["linux/amd64", "linux/arm64"]


def workload(
    kind: str,
    api_version: str,
    namespace: str,
    name: str,
    status: str,
    images: list[Any],
    pods: int,
    platforms: list[str] | None = AMD,
    reason: str = "",
    broken: list[Any] | None = None,
    from_pods: bool = False,
    target: list[Any] | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "kind": kind,
        "apiVersion": api_version,
        "namespace": namespace,
        "name": name,
        "status": status,
        "reason": reason,
        "platforms": platforms,
        "images": images,
        "pods": pods,
        "brokenPods": broken or [],
        "fromPods": from_pods,
    }
    if target is not None:
        entry["target"] = target
    return entry


def blocked(*blockers: tuple[str, str]) -> list[Any]:
    return [
        {
            "platform": "linux/arm64",
            "ready": False,
            "blockedBy": [{"image": i, **({"update": u} if u else {})} for i, u in blockers],
        }
    ]


READY = [{"platform": "linux/arm64", "ready": True, "blockedBy": []}]
UNKNOWN = [{"platform": "linux/arm64", "ready": None, "blockedBy": []}]


def expected(images: Images, server: ApiServer, target: bool = False, rollout: bool = True) -> dict[str, Any]:
    ref = images.ref
    missing = (
        f"image {ref('missing:16')}: 404 Not Found from {images.host} (MANIFEST_UNKNOWN: manifest unknown): "
        "manifest 16 not found; is the name right? (a private repository may also answer 404 without credentials)"
    )
    t = (lambda value: value) if target else (lambda value: None)
    checkout = (
        workload(
            "Rollout", "argoproj.io/v1alpha1", "shop", "checkout", "ok",
            [image(images, "checkout", "multi:3.1", images.multi, BOTH)], 1, BOTH, target=t(READY),
        )
        if rollout
        else workload(
            "ReplicaSet", "apps/v1", "shop", "checkout-6c9d8b7f4", "ok",
            [image(images, "checkout", "multi:3.1", images.multi, BOTH)], 1, BOTH, target=t(READY),
        )
    )  # fmt: skip
    workloads = [
        workload(
            "CronJob", "batch/v1", "ops", "report", "ok",
            [image(images, "report", "report:latest", images.report, AMD)], 1,
            target=t(blocked((ref("report:latest"), ""))),
        ),
        workload(
            "DaemonSet", "apps/v1", "ops", "node-exporter", "ok",
            [image(images, "node-exporter", "exporter:1.7", images.exporter, AMD)], 2,
            target=t(blocked((ref("exporter:1.7"), ""))),
        ),
        workload(
            "Deployment", "apps/v1", "shop", "api", "broken",
            [image(images, "api", "api:2.3", images.api, AMD, [(images.api_old, 1)])], 1,
            reason=f"1 pod on linux/arm64 nodes ({ARM1}), which image {ref('api:2.3')} cannot run on",
            broken=[{"platform": "linux/arm64", "pods": 1, "nodes": [ARM1]}],
            target=t(blocked((ref("api:2.3"), ""))),
        ),
        workload(
            "Deployment", "apps/v1", "shop", "web", "at-risk",
            [image(images, "web", "web:1.0", images.web, AMD)], 2,
            reason="the scheduler may place pods on nodes it cannot run on: 2 Ready nodes run linux/arm64, "
            f"which image {ref('web:1.0')} cannot run on",
            target=t(blocked((ref("web:1.0"), ref("web:1.1")))),
        ),
        workload(
            "Pod", "v1", "shop", "debug", "ok",
            [image(images, "debug", "multi:3.1", images.multi, BOTH)], 1, BOTH, target=t(READY),
        ),
        workload(
            "ReplicationController", "v1", "shop", "legacy", "ok",
            [image(images, "legacy", "web:1.0", images.web, AMD)], 1,
            target=t(blocked((ref("web:1.0"), ref("web:1.1")))),
        ),
        checkout,
        workload(
            "StatefulSet", "apps/v1", "shop", "db", "unknown",
            [{"container": "db", "image": ref("missing:16"), "error": missing}], 1, None, reason=missing,
            target=t(UNKNOWN),
        ),
    ]  # fmt: skip
    workloads.sort(key=lambda w: (w["namespace"], w["kind"], w["name"]))
    text = "8 workloads in 2 namespaces: 5 ok, 1 at risk, 1 broken (1 pod), 1 unknown"
    targets = []
    if target:
        text += "; linux/arm64: 2 ready, 5 blocked by 4 images (1 with a newer tag), 1 unknown"
        targets = [
            {
                "platform": "linux/arm64",
                "ready": 2,
                "blocked": 5,
                "unknown": 1,
                "blockingImages": 4,
                "withUpdate": 1,
            }
        ]
    warnings = (
        []
        if rollout
        else [
            "1 object(s) are owned by Rollout.argoproj.io objects, a kind the audit does not read: they are "
            "reported on their own; declare it (--pod-template-path Rollout.argoproj.io=PATH) to audit it as "
            "one workload"
        ]
    )
    warnings.append(missing)  # every image that could not be looked up, once
    return {
        "cluster": {"context": "test", "nodes": 4, "ready": 4, "platforms": BOTH},
        "namespace": None,
        "workloads": workloads,
        "unreadable": [],
        "summary": {
            "workloads": 8,
            "namespaces": 2,
            "ok": 5,
            "atRisk": 1,
            "broken": 1,
            "brokenPods": 1,
            "unschedulable": 0,
            "unknown": 1,
            "targets": targets,
            "text": text,
        },
        "warnings": warnings,
    }


# -- the scenarios ------------------------------------------------------------------------------


def test_every_scenario_in_one_json_document(tmp_path: Path, images: Images, server: ApiServer) -> None:
    proc = audit(tmp_path, server, "-A", "-o", "json", "--pod-template-path", ROLLOUT)
    assert proc.returncode == 1, proc.stderr
    document = expected(images, server)
    assert json.loads(proc.stdout) == document
    assert proc.stderr == f"warning: {document['warnings'][-1]}\n"  # the image that cannot be looked up


def test_target_names_blocking_images_and_the_newer_tag(
    tmp_path: Path, images: Images, server: ApiServer
) -> None:
    proc = audit(
        tmp_path, server, "-A", "-o", "json", "--target", "linux/arm64", "--pod-template-path", ROLLOUT
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout) == expected(images, server, target=True)
    # The tag list was read with the registry's paging parameter.
    log = images_log(images)
    assert ("GET", "/v2/audit/web/tags/list?n=1000", 200) in log


def images_log(images: Images) -> list[tuple[str, str, int]]:
    from registry_util import Registry

    registry: Registry = images.registry  # type: ignore[attr-defined]
    return registry.access_log()


@pytest.fixture(autouse=True)
def _remember_registry(images: Images, populated_registry: Populated) -> None:
    images.registry = populated_registry.registry  # type: ignore[attr-defined]


def test_yaml_is_the_same_document(tmp_path: Path, images: Images, server: ApiServer) -> None:
    proc = audit(tmp_path, server, "-A", "-o", "yaml", "--pod-template-path", ROLLOUT)
    assert proc.returncode == 1
    assert yaml.safe_load(proc.stdout) == expected(images, server)


def test_table_details_and_summary(tmp_path: Path, images: Images, server: ApiServer) -> None:
    proc = audit(tmp_path, server, "-A", "--target", "linux/arm64")
    assert proc.returncode == 1
    assert proc.stdout == (
        "NAMESPACE   WORKLOAD                       STATUS    PLATFORMS                 LINUX/ARM64\n"
        "ops         CronJob/report                 ok        linux/amd64               blocked\n"
        "ops         DaemonSet/node-exporter        ok        linux/amd64               blocked\n"
        "shop        Deployment/api                 broken    linux/amd64               blocked\n"
        "shop        Deployment/web                 at-risk   linux/amd64               blocked\n"
        "shop        Pod/debug                      ok        linux/amd64,linux/arm64   ready\n"
        "shop        ReplicationController/legacy   ok        linux/amd64               blocked\n"
        "shop        Rollout/checkout               ok        linux/amd64,linux/arm64   ready\n"
        "shop        StatefulSet/db                 unknown   ?                         unknown\n"
    )
    document = expected(images, server, target=True)
    ref = images.ref
    assert proc.stderr.splitlines() == [
        f"warning: {document['workloads'][7]['reason']}",
        f"broken: shop/Deployment/api: {document['workloads'][2]['reason']}",
        f"note: shop/Deployment/api container 'api': 1 pod(s) run {images.api_old}, but {ref('api:2.3')} now "
        f"points to {images.api}",
        f"at-risk: shop/Deployment/web: {document['workloads'][3]['reason']}",
        f"linux/arm64: image {ref('api:2.3')} lacks it",
        f"linux/arm64: image {ref('exporter:1.7')} lacks it",
        f"linux/arm64: image {ref('report:latest')} lacks it",
        f"linux/arm64: image {ref('web:1.0')} lacks it; {ref('web:1.1')} supports it",
        "8 workloads in 2 namespaces: 5 ok, 1 at risk, 1 broken (1 pod), 1 unknown; "
        "linux/arm64: 2 ready, 5 blocked by 4 images (1 with a newer tag), 1 unknown",
    ]


def test_the_rollout_is_audited_without_a_declaration(
    tmp_path: Path, images: Images, server: ApiServer
) -> None:
    """Argo Rollouts is among the ecosystem's kinds: the server serves it, so it is listed."""
    proc = audit(tmp_path, server, "-A", "-o", "json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout) == expected(images, server)


def test_a_kind_declared_no_workload_leaves_its_replicaset_reported(
    tmp_path: Path, images: Images, server: ApiServer
) -> None:
    proc = audit(tmp_path, server, "-A", "-o", "json", "--pod-template-path", "Rollout.argoproj.io=")
    assert proc.returncode == 1
    assert json.loads(proc.stdout) == expected(images, server, rollout=False)
    assert not any(r.path.endswith("/rollouts") for r in server.requests)


def test_forbidden_daemonsets_are_unreadable_and_the_rest_is_audited(
    tmp_path: Path, images: Images, server: ApiServer
) -> None:
    server.forbidden_resources = frozenset({"daemonsets"})
    proc = audit(tmp_path, server, "-A", "-o", "json", "--pod-template-path", ROLLOUT)
    assert proc.returncode == 1
    document = json.loads(proc.stdout)
    refused = (
        f'API server {server.url} (context "test") refused to list daemonsets.apps (403 Forbidden: '
        'daemonsets.apps is forbidden: User "ci-admin" cannot list resource "daemonsets" in API group "apps" '
        "at the cluster scope); ask a cluster administrator for permission to list daemonsets.apps (verb list "
        'on daemonsets in API group "apps")'
    )
    want = expected(images, server)
    # The DaemonSet is known from its pods' ownerReferences only: judged from its pods.
    want["workloads"][1]["fromPods"] = True
    want["unreadable"] = [{"resource": "daemonsets.apps", "message": refused}]
    missing = want["warnings"][-1]
    want["warnings"] = [f"{refused}; the rest is audited without it", missing]
    assert document == want
    assert proc.stderr == f"warning: {refused}; the rest is audited without it\nwarning: {missing}\n"


def test_one_namespace_by_flag_and_by_context(tmp_path: Path, images: Images, server: ApiServer) -> None:
    by_flag = audit(tmp_path, server, "-n", "ops", "-o", "json")
    by_context = audit(tmp_path, server, "-o", "json", namespace="ops")
    assert by_flag.returncode == by_context.returncode == 0
    assert by_flag.stdout == by_context.stdout
    document = json.loads(by_flag.stdout)
    assert document["namespace"] == "ops"
    assert [(w["kind"], w["name"]) for w in document["workloads"]] == [
        ("CronJob", "report"),
        ("DaemonSet", "node-exporter"),
    ]
    assert document["summary"]["text"] == "2 workloads in 1 namespace: 2 ok"
    paths = {r.path for r in server.requests if "/namespaces/" in r.path}
    assert "/apis/apps/v1/namespaces/ops/deployments" in paths
    assert "/api/v1/namespaces/ops/pods" in paths
    # -A wins over -n, as in kubectl
    everything = audit(tmp_path, server, "-n", "ops", "-A", "-o", "json")
    assert json.loads(everything.stdout)["namespace"] is None


def test_default_namespace_without_workloads(tmp_path: Path, images: Images, server: ApiServer) -> None:
    proc = audit(tmp_path, server)
    assert (proc.returncode, proc.stdout) == (0, "")
    assert proc.stderr == "No workloads found in namespace default.\n0 workloads in 0 namespaces: 0 ok\n"


def test_label_selector_is_sent_and_owners_that_do_not_match_leave_their_objects_out(
    tmp_path: Path, images: Images, server: ApiServer
) -> None:
    proc = audit(tmp_path, server, "-A", "-l", "app=web", "-o", "json")
    assert proc.returncode == 1
    document = json.loads(proc.stdout)
    assert [(w["kind"], w["name"], w["pods"]) for w in document["workloads"]] == [("Deployment", "web", 2)]
    lists = [r for r in server.requests if r.query.get("limit")]
    assert lists and all(
        r.query.get("labelSelector") == "app=web" for r in lists if r.path != "/api/v1/nodes"
    )
    # The Job's pod matches app=report, its CronJob does not match tier=batch: nothing is reported.
    proc = audit(tmp_path, server, "-A", "-l", "batch.kubernetes.io/job-name", "-o", "json")
    assert (proc.returncode, json.loads(proc.stdout)["workloads"]) == (0, [])


def test_paging_reads_every_object(
    tmp_path: Path, images: Images, server: ApiServer, monkeypatch: Any
) -> None:
    """Pages of 500: the recorded pods repeated past one page still make the same workloads."""
    from cluster_util import REPO as _  # noqa: F401 - the fixture module is loaded

    extra = []
    for i in range(620):
        pod = json.loads(json.dumps(next(o for o in images.objects() if o["metadata"]["name"] == "debug")))
        pod["metadata"]["name"] = f"debug-{i:04d}"
        pod["metadata"]["uid"] = f"00000000-0000-4000-9000-{i:012d}"
        extra.append(pod)
    with ApiServer(load_nodes(EKS), objects=[*images.objects(), *extra]) as big:
        proc = audit(tmp_path, big, "-A", "-o", "json", "--pod-template-path", ROLLOUT)
        pages = [r.query for r in big.list_requests("/api/v1/pods")]
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["summary"]["workloads"] == 8 + 620
    assert [q.get("limit") for q in pages] == ["500", "500"]
    assert ["continue" in q for q in pages] == [False, True]


def test_locked_answers_need_no_registry(tmp_path: Path, images: Images, server: ApiServer) -> None:
    from kubectl_arch import lock
    from kubectl_arch import platforms as plat
    from kubectl_arch.registry.images import ImageInfo
    from kubectl_arch.registry.index import Entry
    from kubectl_arch.registry.reference import parse

    def info(name: str, digest: str, platforms: list[str]) -> Any:
        entries = tuple(
            Entry(plat.parse(p), digest, "application/vnd.oci.image.manifest.v1+json", 1) for p in platforms
        )
        return ImageInfo(
            images.ref(name),
            parse(images.ref(name)),
            digest,
            "application/vnd.oci.image.index.v1+json",
            1,
            entries,
        )

    path = tmp_path / "platforms.lock"
    lock.write(
        str(path),
        [
            info("web:1.0", images.web, AMD),
            info("api:2.3", images.api, AMD),
            info("exporter:1.7", images.exporter, AMD),
            info("report:latest", images.report, AMD),
            info("multi:3.1", images.multi, BOTH),
        ],
    )
    proc = audit(
        tmp_path, server, "-A", "-o", "json", "--locked", str(path), "--target", "linux/arm64",
        "--pod-template-path", ROLLOUT,
    )  # fmt: skip
    assert proc.returncode == 1
    document = json.loads(proc.stdout)
    db = document["workloads"][-1]
    assert (db["name"], db["status"]) == ("db", "unknown")
    assert db["images"][0]["error"] == (
        f"image {images.ref('missing:16')}: not in lock file {path}; update it with kubectl arch pin --lock {path}"
    )
    assert document["warnings"] == [
        db["images"][0]["error"],
        "newer tags are not searched with --locked (no registry is contacted)",
    ]
    assert document["summary"]["text"] == (
        "8 workloads in 2 namespaces: 5 ok, 1 at risk, 1 broken (1 pod), 1 unknown; "
        "linux/arm64: 2 ready, 5 blocked by 4 images (0 with a newer tag), 1 unknown"
    )


def test_on_unknown_image_fail_and_assume(tmp_path: Path, images: Images, server: ApiServer) -> None:
    failed = audit(tmp_path, server, "-A", "--on-unknown-image", "fail")
    assert (failed.returncode, failed.stdout) == (3, "")
    assert failed.stderr.splitlines()[-1] == (
        "error: 1 image(s) could not be looked up; nothing was audited "
        "(--on-unknown-image=skip reports their workloads as unknown)"
    )
    assumed = audit(tmp_path, server, "-A", "-o", "json", "--on-unknown-image", "assume:linux/amd64")
    db = json.loads(assumed.stdout)["workloads"][-1]
    assert (db["name"], db["status"], db["images"][0]["platforms"], db["images"][0]["digest"]) == (
        "db",
        "at-risk",
        ["linux/amd64"],
        "",
    )


def test_usage_errors(tmp_path: Path, images: Images, server: ApiServer) -> None:
    bad = audit(tmp_path, server, "--target", "arm64")
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: Invalid value for '--target': invalid platform 'arm64': ")
    assert bad.stderr.endswith("\nSee 'kubectl arch audit --help' for usage.\n")
    bad = audit(tmp_path, server, "--pod-template-path", "nope")
    assert bad.returncode == 2
    assert bad.stderr.startswith(
        "error: Invalid value for '--pod-template-path': invalid pod template path 'nope'"
    )
    assert bad.stderr.endswith("\nSee 'kubectl arch audit --help' for usage.\n")
    bad = audit(tmp_path, server, "--max-tag-candidates", "-1")
    assert bad.returncode == 2
    bad = audit(tmp_path, server, "-A", "-l", "a in (")
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: -l/--selector 'a in (': the API server rejected it")


def test_the_cluster_cannot_be_read(tmp_path: Path, images: Images, server: ApiServer) -> None:
    server.forbidden = True  # listing nodes
    proc = audit(tmp_path, server, "-A")
    assert proc.returncode == 3
    assert "refused to list nodes (403 Forbidden" in proc.stderr
    server.forbidden = False
    server.forbidden_resources = frozenset(
        {"pods", "deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs",
         "replicationcontrollers", "rollouts"}
    )  # fmt: skip
    proc = audit(tmp_path, server, "-A")
    assert proc.returncode == 3
    assert proc.stderr.splitlines()[-1].startswith(
        f"error: API server {server.url} refused to list every workload resource ("
    )


def test_progress_only_on_a_terminal(tmp_path: Path, images: Images, server: ApiServer) -> None:
    """On a terminal, stderr shows objects read and images looked up, then erases the line; on a
    pipe (every other test), nothing of it."""
    import os
    import pty
    import select

    config = server.kubeconfig(tmp_path / "kubeconfig")
    env = arch_env(tmp_path, KUBECONFIG=str(config))
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [str(KUBECTL_ARCH), "audit", "-A", "-o", "json", "--pod-template-path", "Rollout.argoproj.io="],
        stdout=subprocess.PIPE,
        stderr=terminal,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    os.close(terminal)
    shown = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        shown += chunk
    out, _ = proc.communicate(timeout=60)
    os.close(controller)
    assert proc.returncode == 1
    assert json.loads(out)["summary"]["workloads"] == 8
    text = shown.decode()
    assert "\rreading the cluster: 4 objects" in text  # the nodes, then each page
    assert "\rlooking up images: " in text
    assert re.search(r"\r {20,}\rwarning: 1 object\(s\) are owned by Rollout", text)  # erased first
    assert "reading the cluster" not in audit(tmp_path, server, "-A", "-o", "json").stderr


def test_through_real_kubectl(tmp_path: Path, images: Images, server: ApiServer) -> None:
    """kubectl finds the plugin on PATH and hands it its arguments (kubectl's flag forms) and
    environment: the same document on stdout, nothing else, and each exit code passed through."""
    config = server.kubeconfig(tmp_path / "kubeconfig", namespace="ops")
    env = arch_env(tmp_path, KUBECONFIG=str(tmp_path / "no-kubeconfig"))

    def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            ["kubectl", "arch", "audit", f"--kubeconfig={config}", "--context", "test", *args],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc

    proc = kubectl("--all-namespaces", "--output=json", f"--pod-template-path={ROLLOUT}")
    document = expected(images, server)
    assert (proc.returncode, proc.stderr) == (1, "".join(f"warning: {w}\n" for w in document["warnings"]))
    assert json.loads(proc.stdout) == document
    proc = kubectl("-oyaml", f"--pod-template-path={ROLLOUT}")  # the context's namespace: ops
    assert (proc.returncode, proc.stderr) == (0, "")
    assert [w["name"] for w in yaml.safe_load(proc.stdout)["workloads"]] == ["report", "node-exporter"]
    server.forbidden = True
    proc = kubectl("-A")
    assert (proc.returncode, proc.stdout) == (3, "")
    assert proc.stderr.startswith(
        f'error: API server {server.url} (context "test") refused to list nodes (403'
    )
    proc = kubectl("--target", "arm64")
    assert proc.returncode == 2


def test_a_hostile_registry_makes_workloads_unknown_never_a_crash(tmp_path: Path) -> None:
    """Every image on a registry that answers badly: an error message with escape sequences,
    manifests nested too deeply, a dripping answer, a token realm on another host, a tag list
    whose candidates fail. Each image's fault stays its own (unknown, the reason escaped), the
    one good image is judged, the run ends within the request timeout's reach, and the
    credentials-free realm is never followed to another host."""
    from faulty_registry import Answer, faulty
    from test_registry_hostile import serve_image

    amd64 = {"architecture": "amd64", "os": "linux"}
    deep = Answer(200, b"[" * 100_000, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    # The realm fault is served by a registry of its own: a registry's challenge is the same
    # for every repository, and is reused for its other repositories as Docker's client does.
    with faulty() as registry, faulty() as other:
        host = registry.host
        serve_image(registry, "audit/web", "1.0", amd64)
        tags = json.dumps({"name": "audit/web", "tags": ["1.0", "1.1", "9.9", "1.2\x1b]0;x\x07"]}).encode()
        registry.on("/v2/audit/web/tags/list", Answer(200, tags, {"Content-Type": "application/json"}))
        registry.on("/v2/audit/web/manifests/1.1", deep)
        registry.on("/v2/audit/web/manifests/9.9", Answer(200, b"{}" * 50, drip=0.5))
        evil = {"errors": [{"code": "DENIED", "message": "\x1b]0;pwned\x07\u202eno\x1b[2J"}]}
        registry.on("/v2/audit/api/manifests/2.3", Answer(500, json.dumps(evil).encode()))
        registry.on("/v2/audit/exporter/manifests/1.7", deep)
        registry.on("/v2/audit/report/manifests/latest", Answer(200, b"{}" * 50, drip=0.5))
        realm = {"WWW-Authenticate": 'Bearer realm="http://127.0.0.2:9/token",service="x"'}
        other.on("/v2/audit/multi/manifests/3.1", Answer(401, b"", realm))
        objects = load_objects(WORKLOADS, REGISTRY=host, WEB_DIGEST="sha256:" + "a" * 64, API_OLD_DIGEST="")
        objects = json.loads(json.dumps(objects).replace(f"{host}/audit/multi", f"{other.host}/audit/multi"))
        with ApiServer(load_nodes(EKS), objects=objects) as server:
            started = __import__("time").monotonic()
            proc = audit(
                tmp_path, server, "-A", "-o", "json", "--target", "linux/arm64", "--request-timeout", "5s",
                "--insecure-registry", host, "--insecure-registry", other.host,
            )  # fmt: skip
            elapsed = __import__("time").monotonic() - started
            table = audit(
                tmp_path, server, "-A", "-o", "wide", "--request-timeout", "2s", "--insecure-registry", host,
                "--insecure-registry", other.host,
            )  # fmt: skip
        seen = [s.path for s in (*registry.seen, *other.seen)]
    assert proc.returncode == 1, proc.stderr  # web is at risk
    assert elapsed < 60
    for text in (proc.stdout, proc.stderr, table.stdout, table.stderr):
        assert "\x1b" not in text and "\u202e" not in text
    document = json.loads(proc.stdout)
    status = {w["name"]: w["status"] for w in document["workloads"]}
    assert status == {
        "report": "unknown", "node-exporter": "unknown", "api": "unknown", "web": "at-risk",
        "debug": "unknown", "legacy": "ok", "checkout": "unknown", "db": "unknown",
    }  # fmt: skip
    web = next(w for w in document["workloads"] if w["name"] == "web")
    assert web["target"] == [
        {"platform": "linux/arm64", "ready": False, "blockedBy": [{"image": f"{host}/audit/web:1.0"}]}
    ]
    api = next(w for w in document["workloads"] if w["name"] == "api")
    assert "(DENIED: \\x1b]0;pwned\\x07\\u202eno\\x1b[2J)" in api["reason"]  # escaped where it is read
    assert "Traceback" not in table.stderr and table.returncode == 1
    assert "\\x1b]0;pwned\\x07\\u202eno\\x1b[2J" in table.stderr
    assert not any("127.0.0.2" in path for path in seen)


def test_discovery_of_a_group_that_fails_or_a_kind_not_served(
    tmp_path: Path, images: Images, server: ApiServer
) -> None:
    """An aggregated API whose backend is down answers discovery with 503: kubectl goes on
    ("couldn't get resource list"), so does the audit, naming it; a declared kind the server
    does not serve is skipped quietly."""
    server.unavailable_groups = frozenset({"argoproj.io"})
    proc = audit(tmp_path, server, "-A", "-o", "json", "--pod-template-path", "Rollout=spec.template.spec")
    assert proc.returncode == 1
    warning = (
        f'API server {server.url} (context "test") answered discovery /apis/argoproj.io/v1alpha1 with 503 '
        "Service Unavailable: the server is currently unable to handle the request; kinds of "
        "argoproj.io/v1alpha1 are not audited"
    )
    want = expected(images, server, rollout=False)
    want["warnings"] = [warning, want["warnings"][-1]]
    assert json.loads(proc.stdout) == want
    assert proc.stderr == "".join(f"warning: {w}\n" for w in want["warnings"])
    server.unavailable_groups = frozenset()
    proc = audit(
        tmp_path, server, "-A", "-o", "json", "--pod-template-path", ROLLOUT,
        "--pod-template-path", "Widget.example.com=spec.template.spec",
    )  # fmt: skip
    document = expected(images, server)
    assert (proc.returncode, proc.stderr) == (1, f"warning: {document['warnings'][-1]}\n")
    assert json.loads(proc.stdout) == document


def test_images_looked_up_in_batches_say_once_that_the_cache_answered(
    tmp_path: Path, images: Images, server: ApiServer
) -> None:
    """Images are looked up from the page that first names them (a batch per list here); a
    second run answered from the cache says so in one line, not one per batch."""
    first = audit(tmp_path, server, "-A", "-o", "json", "--tag-cache-ttl", "1h")
    again = audit(tmp_path, server, "-A", "-o", "json", "--tag-cache-ttl", "1h")
    assert first.returncode == again.returncode == 1
    assert json.loads(again.stdout) == json.loads(first.stdout)
    assert not [line for line in first.stderr.splitlines() if "answered from the cache" in line]
    notes = [line for line in again.stderr.splitlines() if "answered from the cache" in line]
    answered = {
        i["image"] for w in json.loads(again.stdout)["workloads"] for i in w["images"] if "error" not in i
    }
    assert notes == [
        f"note: {len(answered)} image tag(s) answered from the cache without asking the registry "
        + notes[0].split("registry ", 1)[1]
    ]
