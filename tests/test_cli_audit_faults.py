"""``kubectl arch audit`` on objects and lists no API server should send, and on clusters whose
objects are legal but unusual, against the suite's API server (recorded EKS-style nodes: 2
amd64, 2 arm64, no taints). Images are answered by a lock file (--locked): nothing here needs
a registry.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from apiserver import KINDS, ApiServer, load_nodes, status
from cluster_util import KUBECTL_ARCH
from registry_util import arch_env
from test_cli_audit import AMD1, ARM1, EKS
from test_cli_audit import audit as run_audit

NS = "a"
AMD_IMAGE = "registry.example/t/amd:1.0"
BOTH_IMAGE = "registry.example/t/both:1.0"
AMD_DIGEST = "sha256:" + "a" * 64
BOTH_DIGEST = "sha256:" + "b" * 64


def write_lock(path: Path) -> Path:
    from kubectl_arch import lock
    from kubectl_arch import platforms as plat
    from kubectl_arch.registry.images import ImageInfo
    from kubectl_arch.registry.index import Entry
    from kubectl_arch.registry.reference import parse

    def info(ref: str, digest: str, platforms: list[str]) -> Any:
        entries = tuple(
            Entry(plat.parse(p), digest, "application/vnd.oci.image.manifest.v1+json", 1) for p in platforms
        )
        return ImageInfo(ref, parse(ref), digest, "application/vnd.oci.image.index.v1+json", 1, entries)

    lock.write(
        str(path),
        [
            info(AMD_IMAGE, AMD_DIGEST, ["linux/amd64"]),
            info(BOTH_IMAGE, BOTH_DIGEST, ["linux/amd64", "linux/arm64"]),
        ],
    )
    return path


def obj(
    api_version: str, kind: str, name: str, spec: Any, namespace: str = NS, owner: Any = None, uid: str = ""
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": uid or f"uid-{kind}-{namespace}-{name}",
    }
    if owner is not None:
        metadata["ownerReferences"] = [
            {
                "apiVersion": owner["apiVersion"],
                "kind": owner["kind"],
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
                "controller": True,
            }
        ]
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec}


def template(image: str, **spec: Any) -> dict[str, Any]:
    return {"template": {"spec": {**spec, "containers": [{"name": "c", "image": image}]}}}


def pod(name: str, image: str, node: str = "", owner: Any = None, namespace: str = NS) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": image}]}
    if node:
        spec["nodeName"] = node
    found = obj("v1", "Pod", name, spec, namespace, owner)
    found["status"] = {"phase": "Running"}
    return found


def audit(tmp_path: Path, server: ApiServer, *args: str) -> subprocess.CompletedProcess[str]:
    lock_file = write_lock(tmp_path / "platforms.lock")
    return run_audit(tmp_path, server, "--locked", str(lock_file), *args, namespace=NS)


def rows(document: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [
        (w["namespace"], f"{w['kind']}/{w['name']}", w["status"], w.get("error", ""))
        for w in document["workloads"]
    ]


# -- objects the manifest reader cannot read --------------------------------------------------------


MALFORMED = [
    obj(
        "apps/v1",
        "Deployment",
        "cnl",
        {"template": {"spec": {"containers": {"name": "x", "image": AMD_IMAGE}}}},
    ),
    obj(
        "apps/v1",
        "Deployment",
        "imgnum",
        {"template": {"spec": {"containers": [{"name": "x", "image": 42}]}}},
    ),
    obj("apps/v1", "Deployment", "tnull", {"template": None}),
    obj("apps/v1", "Deployment", "specnull", None),
    obj("apps/v1", "StatefulSet", "fine", template(BOTH_IMAGE)),
    obj("v1", "Pod", "noimg", {"containers": [{"name": "c"}]}),
    obj("v1", "Pod", "empty", {"containers": []}),
]


def test_objects_the_reader_cannot_read_are_unknown_with_its_words(tmp_path: Path) -> None:
    with ApiServer(load_nodes(EKS), objects=MALFORMED) as server:
        proc = audit(tmp_path, server, "-o", "json", "--target", "linux/arm64")
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert rows(document) == [
        (NS, "Deployment/cnl", "unknown", "spec.template.spec.containers is a mapping, not a list"),
        (NS, "Deployment/imgnum", "unknown", "container 'x': image is a number, not a string (quote it)"),
        (NS, "Deployment/specnull", "unknown", "no pod spec at spec.template.spec"),
        (NS, "Deployment/tnull", "unknown", "no pod spec at spec.template.spec"),
        (NS, "Pod/empty", "unknown", "spec has no containers"),
        (NS, "Pod/noimg", "unknown", "container 'c' has no image"),
        (NS, "StatefulSet/fine", "ok", ""),
    ]
    cnl = document["workloads"][0]
    assert (cnl["reason"], cnl["platforms"], cnl["target"]) == (
        "spec.template.spec.containers is a mapping, not a list",
        None,
        [{"platform": "linux/arm64", "ready": None, "blockedBy": []}],
    )
    warnings = [
        f"{NS}/{w['kind']}/{w['name']}: {w['error']}; its status is unknown"
        for w in document["workloads"]
        if "error" in w
    ]
    assert document["warnings"] == warnings
    assert proc.stderr == "".join(f"warning: {w}\n" for w in document["warnings"])
    assert document["summary"]["text"] == (
        "7 workloads in 1 namespace: 1 ok, 6 unknown; linux/arm64: 1 ready, 6 unknown"
    )


def test_pin_gives_the_same_words(tmp_path: Path) -> None:
    manifest = tmp_path / "cnl.yaml"
    manifest.write_text(json.dumps(MALFORMED[0]))
    proc = subprocess.run(
        [str(KUBECTL_ARCH), "pin", "--platform", "linux/amd64", "-f", str(manifest)],
        capture_output=True,
        text=True,
        env=arch_env(tmp_path),
        check=False,
    )
    assert proc.returncode == 2
    assert "spec.template.spec.containers is a mapping, not a list" in proc.stderr


def test_list_items_that_are_not_objects_are_named_and_left_out(tmp_path: Path) -> None:
    body = json.dumps(
        {
            "kind": "PodList",
            "apiVersion": "v1",
            "metadata": {},
            "items": [5, "x", None, {"metadata": None, "spec": []}, pod("fine", BOTH_IMAGE, AMD1)],
        }
    ).encode()
    with ApiServer(load_nodes(EKS), list_body=body, faulty=frozenset({"pods"})) as server:
        proc = audit(tmp_path, server, "-o", "json")
        url = server.url
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert rows(document) == [(NS, "Pod/fine", "ok", "")]
    note = (
        f"API server {url} listed 4 item(s) of pods that are not objects with a metadata.name "
        "(item 0, 1, 2, 3); they were left out"
    )
    assert document["warnings"] == [note]
    assert proc.stderr == f"warning: {note}\n"


# -- DaemonSets: only the nodes they select ------------------------------------------------------


def gpu_node() -> dict[str, Any]:
    """An amd64 node of a GPU pool, tainted as such pools are."""
    node = json.loads(json.dumps(load_nodes(EKS)[0]))
    node["metadata"]["name"] = "gpu-1"
    node["metadata"]["uid"] = "uid-gpu-1"
    node["metadata"]["labels"]["kubernetes.io/hostname"] = "gpu-1"
    node["metadata"]["labels"]["nvidia.com/gpu.present"] = "true"
    node["spec"]["taints"] = [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    return node


DAEMONSETS = [
    # No node has the label: it wants no pods.
    obj("apps/v1", "DaemonSet", "win-proxy", template(AMD_IMAGE, nodeSelector={"kubernetes.io/os": "windows"})),
    # The GPU node has the label, but its taint is not tolerated: no pods either.
    obj("apps/v1", "DaemonSet", "gpu-plugin", template(AMD_IMAGE, nodeSelector={"nvidia.com/gpu.present": "true"})),
    # Tolerated: one pod, on an amd64 node: ok, and no note.
    obj(
        "apps/v1", "DaemonSet", "gpu-ok",
        template(
            AMD_IMAGE, nodeSelector={"nvidia.com/gpu.present": "true"},
            tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists"}],
        ),
    ),
    # Selects the arm64 nodes, amd64 image: its pods fail there.
    obj("apps/v1", "DaemonSet", "arm-only", template(AMD_IMAGE, nodeSelector={"kubernetes.io/arch": "arm64"})),
    # A Deployment scaled to 0 is judged by its template all the same.
    obj(
        "apps/v1", "Deployment", "parked",
        {"replicas": 0, **template(AMD_IMAGE, nodeSelector={"kubernetes.io/os": "windows"})},
    ),
]  # fmt: skip


def test_a_daemonset_that_selects_no_node_wants_no_pods(tmp_path: Path) -> None:
    with ApiServer([*load_nodes(EKS), gpu_node()], objects=DAEMONSETS) as server:
        proc = audit(tmp_path, server, "-o", "json")
    assert proc.returncode == 1, proc.stderr
    document = json.loads(proc.stdout)
    found = {w["name"]: (w["status"], w.get("notes")) for w in document["workloads"]}
    none = "its nodeSelector, affinity and tolerations admit none of the 5 nodes: the DaemonSet wants no pods"
    assert found == {
        "arm-only": ("unschedulable", None),
        "gpu-ok": ("ok", None),
        "gpu-plugin": ("ok", [none]),
        "win-proxy": ("ok", [none]),
        "parked": ("unschedulable", None),
    }
    assert document["summary"]["text"] == "5 workloads in 1 namespace: 3 ok, 2 unschedulable"


# -- a list answered with an error status ----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "reason", "message"),
    [
        (404, "Not Found", "the server could not find the requested resource"),
        (500, "Internal Server Error", "etcdserver: request timed out"),
        (503, "Service Unavailable", "the server is currently unable to handle the request"),
    ],
)
def test_a_list_answered_with_an_error_is_unreadable_and_the_rest_audited(
    tmp_path: Path, code: int, reason: str, message: str
) -> None:
    body = json.dumps(status(code, reason.replace(" ", ""), message)).encode()
    objects = [obj("apps/v1", "StatefulSet", "db", template(BOTH_IMAGE)), pod("bare", BOTH_IMAGE, AMD1)]
    with ApiServer(
        load_nodes(EKS), objects=objects, list_body=body, list_status=code, faulty=frozenset({"statefulsets"})
    ) as server:
        proc = audit(tmp_path, server, "-o", "json")
        url = server.url
    assert proc.returncode == 0, proc.stderr
    said = f'API server {url} (context "test") answered listing statefulsets.apps with {code} {reason}: {message}'
    document = json.loads(proc.stdout)
    assert document["unreadable"] == [{"resource": "statefulsets.apps", "message": said}]
    assert document["warnings"] == [f"{said}; the rest is audited without it"]
    assert proc.stderr == f"warning: {said}; the rest is audited without it\n"
    assert rows(document) == [(NS, "Pod/bare", "ok", "")]


def test_every_list_answered_with_an_error_is_exit_3(tmp_path: Path) -> None:
    body = json.dumps(status(500, "InternalError", "etcdserver: leader changed")).encode()
    lists = {k.plural for k in KINDS if k.plural != "nodes"}
    with ApiServer(load_nodes(EKS), list_body=body, list_status=500, faulty=frozenset(lists)) as server:
        proc = audit(tmp_path, server, "-o", "json")
        url = server.url
    assert proc.returncode == 3
    assert proc.stdout == ""
    names = "replicationcontrollers, daemonsets.apps, deployments.apps, replicasets.apps, statefulsets.apps, "
    names += "rollouts.argoproj.io, cronjobs.batch, jobs.batch, pods"
    assert proc.stderr == (
        f"error: API server {url} could not list any workload resource ({names}); nothing to audit; the first "
        f'error: API server {url} (context "test") answered listing replicationcontrollers with 500 Internal '
        "Server Error: etcdserver: leader changed\n"
    )


# -- declarations ----------------------------------------------------------------------------------


def test_declarations_of_kubernetes_own_kinds_as_pin_reads_them(tmp_path: Path) -> None:
    deployment = obj("apps/v1", "Deployment", "web", template(AMD_IMAGE))
    replicaset = obj("apps/v1", "ReplicaSet", "web-1", template(AMD_IMAGE), owner=deployment)
    cronjob = obj("batch/v1", "CronJob", "nightly", {"jobTemplate": {"spec": template(BOTH_IMAGE)}})
    objects = [deployment, replicaset, pod("web-1-x", AMD_IMAGE, AMD1, replicaset), cronjob]
    with ApiServer(load_nodes(EKS), objects=objects) as server:
        proc = audit(
            tmp_path, server, "-o", "json",
            "--pod-template-path", "Deployment.apps=", "--pod-template-path", "CronJob.batch=spec.x",
        )  # fmt: skip
        listed = sorted({r.path for r in server.requests if "/namespaces/" in r.path})
    assert proc.returncode == 1, proc.stderr
    document = json.loads(proc.stdout)
    # Deployments are no workload (pin leaves them alone): not listed; their ReplicaSets are.
    assert f"/apis/apps/v1/namespaces/{NS}/deployments" not in listed
    assert rows(document) == [
        (NS, "CronJob/nightly", "unknown", "no pod spec at spec.x"),
        (NS, "ReplicaSet/web-1", "at-risk", ""),
    ]
    assert document["warnings"] == [f"{NS}/CronJob/nightly: no pod spec at spec.x; its status is unknown"]


# -- what cannot be judged is said ----------------------------------------------------------------


def test_every_image_that_cannot_be_answered_is_named_once_whatever_the_status(tmp_path: Path) -> None:
    missing = "registry.example/t/missing:2.0"
    broken = pod("broken", AMD_IMAGE, ARM1)
    broken["spec"]["containers"].append({"name": "side", "image": missing})
    objects = [broken, obj("apps/v1", "Deployment", "also", template(missing, nodeSelector={"x": "y"}))]
    with ApiServer(load_nodes(EKS), objects=objects) as server:
        proc = audit(tmp_path, server, "-o", "json")
    assert proc.returncode == 1, proc.stderr
    document = json.loads(proc.stdout)
    assert [(w["name"], w["status"]) for w in document["workloads"]] == [
        ("also", "unschedulable"),
        ("broken", "broken"),
    ]
    lock_file = tmp_path / "platforms.lock"
    why = f"image {missing}: not in lock file {lock_file}; update it with kubectl arch pin --lock {lock_file}"
    assert document["warnings"] == [why]
    assert proc.stderr == f"warning: {why}\n"


def test_an_owner_of_a_kind_the_server_does_not_serve_is_named(tmp_path: Path) -> None:
    notebook = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "Notebook",
        "metadata": {"name": "nb", "namespace": NS, "uid": "uid-nb"},
    }
    objects = [obj("apps/v1", "StatefulSet", "nb", template(BOTH_IMAGE), owner=notebook)]
    with ApiServer(load_nodes(EKS), objects=objects) as server:
        proc = audit(tmp_path, server, "-o", "json")
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert rows(document) == [(NS, "StatefulSet/nb", "ok", "")]
    said = (
        "1 object(s) are owned by Notebook.kubeflow.org objects, a kind the API server does not serve "
        "(discovery does not list it): they are reported on their own"
    )
    assert document["warnings"] == [said]
    assert proc.stderr == f"warning: {said}\n"


def test_a_pod_on_a_node_the_node_list_lacks_is_noted(tmp_path: Path) -> None:
    with ApiServer(load_nodes(EKS), objects=[pod("lost", AMD_IMAGE, "ghost-node")]) as server:
        proc = audit(tmp_path, server, "-o", "json")
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    note = (
        "1 pod(s) assigned to node ghost-node, which the node list does not hold: their platform is unknown "
        "and they are not judged"
    )
    [lost] = document["workloads"]
    assert (lost["name"], lost["status"], lost["notes"]) == ("lost", "ok", [note])
    assert document["warnings"] == [f"{NS}/Pod/lost: {note}"]
    assert proc.stderr == f"warning: {NS}/Pod/lost: {note}\n"
